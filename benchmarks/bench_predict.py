"""Throughput of batch inference against the Hugging Face pipeline and the hardware bound, in one run.

python benchmarks/bench_predict.py --checkpoint ../shared/models/multilingual-e5-small-zh \
    --inputs ../shared/corpus/cities-2024 --limit-docs 8 --out results.json

Measured on the same documents and the same checkpoint (see benchmarks/README.md):

(a) our pipeline (``govreport_ner.predict.batch.run_batch``: segmentation, clauses sorted by
    length and batched across documents, targets, JSONL writing) per engine: the default
    (``engine=auto``: ONNX Runtime fp32 when installed, else torch), torch fp32, ONNX Runtime
    fp32, ONNX Runtime dynamic int8;
(b) ``transformers.pipeline("token-classification", aggregation_strategy="simple")`` fed
    the same clauses (whole reports would be truncated at 512 tokens), at each
    ``--pipeline-batch-sizes`` (the best is the baseline);
(c) the hardware bound: measured fp32 matmul GFLOP/s on the encoder's own shapes divided by
    the model's FLOPs per token, converted to characters per second with the measured
    characters per model token.

Optionally (``--gold``) the strict micro-F1 of every engine on the gold clauses, so the
cost of int8 quantization is visible. Peak RSS is reported per phase (Linux: VmHWM, reset
between phases) and for the whole process.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

import torch  # noqa: E402

from govreport_ner.model.threads import available_cores, configure_threads  # noqa: E402
from govreport_ner.model.word_embedding import classifier_of  # noqa: E402
from govreport_ner.predict.batch import run_batch  # noqa: E402
from govreport_ner.predict.predictors import load_predictor  # noqa: E402
from govreport_ner.text.inputs import iter_documents  # noqa: E402
from govreport_ner.text.reader import Document  # noqa: E402
from govreport_ner.text.segment import segment  # noqa: E402

# --------------------------------------------------------------------------- memory


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); False where impossible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak RSS since the last reset (VmHWM), else since the process started (getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 1024 if sys.platform != "darwin" else usage / 2**20


def process_peak_rss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 1024 if sys.platform != "darwin" else usage / 2**20


# --------------------------------------------------------------------------- inputs


def load_documents(inputs: list[str], limit_docs: int | None, fraction: float | None) -> list[Document]:
    """The benchmark's documents: the first ``fraction`` (by count) or ``limit_docs`` of the inputs, in order."""
    docs = [d for d in iter_documents([Path(p) for p in inputs]) if isinstance(d, Document) and d.text.strip()]
    if fraction is not None:
        docs = docs[: max(1, math.ceil(len(docs) * fraction))]
    if limit_docs is not None:
        docs = docs[:limit_docs]
    if not docs:
        raise SystemExit("no readable documents in the inputs")
    return docs


# --------------------------------------------------------------------------- model arithmetic


def encoder_shape(config) -> dict:
    """The numbers the FLOP count needs, from a transformers config."""
    return {
        "hidden": config.hidden_size,
        "layers": config.num_hidden_layers,
        "intermediate": config.intermediate_size,
        "labels": config.num_labels,
    }


def flops_per_token(shape: dict, attended: float) -> dict:
    """FLOPs the encoder spends on one token (a multiply-add counts 2).

    linear = 2 * (layers * (4 h^2 + 2 h i) + h * labels)   Q, K, V, output; FFN up and down; head
    attention = layers * 4 * h * S                          Q K^T and (softmax) V over S attended tokens

    Embedding lookups, layer norms, GELU and softmax are left out (memory-bound, small):
    everything left out is overhead the bound does not forgive.
    """
    h, i, n = shape["hidden"], shape["intermediate"], shape["layers"]
    linear = 2 * (n * (4 * h * h + 2 * h * i) + h * shape["labels"])
    attention = n * 4 * h * attended
    return {"linear": linear, "attention": attention, "total": linear + attention}


def matmul_gflops(shape: dict, tokens: int, seconds: float = 1.0) -> dict:
    """Measured fp32 GFLOP/s of one encoder layer's matmuls at ``tokens`` rows, all threads.

    The four (tokens x h) @ (h x h) products, (tokens x h) @ (h x i) and (tokens x i) @ (i x h)
    are timed back to back (``torch.matmul``, preallocated outputs) for about ``seconds``;
    the best of several rounds is the bound (an upper limit, not a typical figure).
    """
    h, i = shape["hidden"], shape["intermediate"]
    x = torch.randn(tokens, h)
    hidden_out = torch.empty(tokens, h)
    weights = [torch.randn(h, h) for _ in range(4)] + [torch.randn(h, i), torch.randn(i, h)]
    up = torch.empty(tokens, i)
    flops = 2 * tokens * (4 * h * h + 2 * h * i)

    def layer() -> None:
        for w in weights[:4]:
            torch.matmul(x, w, out=hidden_out)
        torch.matmul(x, weights[4], out=up)
        torch.matmul(up, weights[5], out=hidden_out)

    for _ in range(3):
        layer()
    rounds, best, deadline = 0, 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline or rounds < 5:
        start = time.perf_counter()
        for _ in range(5):
            layer()
        elapsed = time.perf_counter() - start
        best = max(best, 5 * flops / elapsed / 1e9)
        rounds += 1
    return {"tokens_per_matmul": tokens, "gflops_best": best, "rounds": rounds}


def token_statistics(tagger, docs: list[Document], max_chars: int) -> dict:
    """Characters, model tokens (content, with specials), windows and attended length of the documents."""
    chars = content = inputs = windows = squares = 0
    for doc in docs:
        for clause in segment(doc.text, max_chars):
            enc = tagger.aligner.encode(clause.text)
            chars += len(clause.text)
            content += len(enc.ids)
            if enc.ids:
                for window in tagger.aligner.windows(enc):
                    n = len(window.input_ids)
                    windows += 1
                    inputs += n
                    squares += n * n
    return {
        "document_chars": sum(len(d.text) for d in docs),
        "clause_chars": chars,
        "content_tokens": content,
        "input_tokens": inputs,
        "windows": windows,
        "chars_per_content_token": chars / max(content, 1),
        "chars_per_input_token": chars / max(inputs, 1),
        "mean_attended_tokens": squares / max(inputs, 1),
    }


# --------------------------------------------------------------------------- runs


class ForwardTimer:
    """Wraps a Tagger's ``_logits``: time in the model, padded and real tokens."""

    def __init__(self, tagger):
        self.seconds, self.padded, self.real, self.batches = 0.0, 0, 0, 0
        inner = tagger._logits

        def timed(inputs):
            start = time.perf_counter()
            out = inner(inputs)
            self.seconds += time.perf_counter() - start
            self.padded += int(inputs["input_ids"].size)
            self.real += int(inputs["attention_mask"].sum())
            self.batches += 1
            return out

        tagger._logits = timed


def run_ours(engine: str, args, docs: list[Document], workdir: Path) -> dict:
    """Our pipeline over the documents (model load excluded, a short warm-up first)."""
    quantize = engine == "onnx-int8"
    kind = "auto" if engine == "default" else "onnx" if engine.startswith("onnx") else "torch"
    reset_peak_rss()
    started = time.perf_counter()
    predictor = load_predictor(
        args.checkpoint,
        engine=kind,
        quantize=quantize,
        onnx_dir=args.onnx_dir,
        num_threads=args.num_threads,
        batch_size=args.batch_size,
        max_tokens=args.max_tokens,
        max_chars=args.max_chars,
    )
    load_seconds = time.perf_counter() - started
    predictor.predict_documents([docs[0].text[:2000]])  # warm-up: lazy initialisation, first allocations
    timer = ForwardTimer(predictor.tagger)
    jsonl = workdir / "inputs.jsonl"
    out = workdir / f"out-{engine}.jsonl"
    summary = run_batch(predictor, jsonl, out, buffer_chars=args.buffer_chars, progress=False)
    chars = summary.characters
    return {
        "engine": engine if engine != "default" else f"default ({predictor.engine})",
        "model_version": predictor.model_version,
        "load_seconds": round(load_seconds, 2),
        "seconds": round(summary.seconds, 3),
        "chars_per_second": chars / summary.seconds,
        "entities": summary.entities,
        "targets": summary.targets,
        "model_seconds": round(timer.seconds, 3),
        "model_time_fraction": timer.seconds / summary.seconds,
        "padding_fraction": 1 - timer.real / max(timer.padded, 1),
        "forward_batches": timer.batches,
        "real_tokens": timer.real,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "_predictor": predictor,
    }


def run_hf_pipeline(args, model, tokenizer, clauses: list[str], batch_size: int) -> dict:
    """The Hugging Face token-classification pipeline on the same clauses."""
    from transformers import pipeline

    reset_peak_rss()
    nlp = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple", device=-1)
    nlp(clauses[:8], batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    results = nlp(clauses, batch_size=batch_size)
    seconds = time.perf_counter() - started
    chars = sum(map(len, clauses))
    return {
        "engine": f"hf-pipeline(batch_size={batch_size})",
        "seconds": round(seconds, 3),
        "chars_per_second": chars / seconds,
        "entities": sum(len(r) for r in results),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def gold_scores(predictors: dict, gold: str, max_chars: int) -> dict:
    """Strict micro-F1 of each engine on every gold clause, and its change against torch fp32."""
    from govreport_ner.annotation.labelstudio_format import read_export
    from govreport_ner.data.dataset import build_dataset
    from govreport_ner.evaluate.scoring import evaluate_systems

    tasks, _ = read_export(gold, skip_unannotated=True)
    dataset = build_dataset(tasks, max_chars)
    out, reference = {}, None
    for engine, result in evaluate_systems(dataset, predictors).items():
        predicted, scores = result["predictions"], result["scores"]
        strict = scores["strict"]
        keys = [sorted((s.start, s.end, s.label) for s in spans) for spans in predicted]
        reference = reference if reference is not None else keys
        out[engine] = {
            "micro_f1": strict["micro"]["f1"],
            "macro_f1": strict["macro"]["f1"],
            "micro_f1_by_region": {r: v["strict"]["micro"]["f1"] for r, v in scores["regions"].items()},
            "clauses_identical_to_first_engine": sum(a == b for a, b in zip(keys, reference, strict=True)) / len(keys),
        }
    first = next(iter(out.values()))["micro_f1"]
    for row in out.values():
        row["micro_f1_change"] = row["micro_f1"] - first
    return {"clauses": len(dataset), **out}


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="training output_dir, its model/ folder, or a bare encoder")
    parser.add_argument("--inputs", nargs="+", required=True, help="report files, folders or JSONL files")
    parser.add_argument("--limit-docs", type=int, default=None, help="only the first N documents")
    parser.add_argument("--fraction", type=float, default=None, help="only the first fraction of the documents")
    parser.add_argument("--out", default=None, help="write the results here as JSON")
    parser.add_argument(
        "--engines",
        default="default,torch,onnx-int8",
        help="comma-separated: default (what predict.py runs: engine=auto), torch, onnx, onnx-int8",
    )
    parser.add_argument("--pipeline-batch-sizes", default="1,32", help="HF pipeline batch sizes ('' to skip it)")
    parser.add_argument("--num-threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=2048)
    parser.add_argument("--max-chars", type=int, default=200)
    parser.add_argument("--buffer-chars", type=int, default=262144)
    parser.add_argument("--matmul-seconds", type=float, default=6.0, help="time spent measuring matmuls (all sizes)")
    parser.add_argument("--onnx-dir", default=None, help="ONNX cache (default: a folder in the system temp dir)")
    parser.add_argument("--gold", default=None, help="a Label Studio export: F1 of every engine on its clauses")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    total_started = time.perf_counter()
    threads = configure_threads(args.num_threads)
    if args.onnx_dir is None:
        name = Path(args.checkpoint).resolve()
        digest = hashlib.sha1(str(name).encode()).hexdigest()[:10]
        args.onnx_dir = str(Path(tempfile.gettempdir()) / "govreport-ner-onnx" / f"{name.name}-{digest}")
    docs = load_documents(args.inputs, args.limit_docs, args.fraction)
    engines = [e for e in args.engines.split(",") if e]
    if not engines:
        raise SystemExit("--engines is empty")

    with tempfile.TemporaryDirectory(prefix="bench_predict_") as tmp:
        workdir = Path(tmp)
        with (workdir / "inputs.jsonl").open("w", encoding="utf-8") as handle:
            for doc in docs:
                handle.write(json.dumps({"id": doc.id, "text": doc.text}, ensure_ascii=False) + "\n")

        ours, predictors = [], {}
        for engine in engines:
            print(f"[ours] {engine} ...", flush=True)
            row = run_ours(engine, args, docs, workdir)
            predictor = row.pop("_predictor")
            if engine == "torch" or args.gold:  # the torch model also serves the HF pipeline
                predictors[engine] = predictor
            del predictor
            gc.collect()
            ours.append(row)
            print(f"  {row['chars_per_second']:,.0f} chars/s", flush=True)

        torch_predictor = predictors.get("torch") or load_predictor(
            args.checkpoint, engine="torch", num_threads=args.num_threads
        )
        tagger = torch_predictor.tagger
        classifier = classifier_of(tagger.model)  # the pipeline runs it without word-boundary tags
        stats = token_statistics(tagger, docs, args.max_chars)
        clauses = [c.text for d in docs for c in segment(d.text, args.max_chars)]

        baseline = []
        for bs in [int(b) for b in args.pipeline_batch_sizes.split(",") if b]:
            print(f"[hf pipeline] batch_size={bs} ...", flush=True)
            row = run_hf_pipeline(args, classifier, tagger.tokenizer, clauses, bs)
            baseline.append(row)
            print(f"  {row['chars_per_second']:,.0f} chars/s", flush=True)

        print("[bound] matmul GFLOP/s ...", flush=True)
        shape = encoder_shape(classifier.config)
        flops = flops_per_token(shape, stats["mean_attended_tokens"])
        rows = sorted({128, 256, 512, 1024, 2048, args.max_tokens})
        gemms = [matmul_gflops(shape, n, args.matmul_seconds / len(rows)) for n in rows]
        gemm = max(gemms, key=lambda g: g["gflops_best"])
        tokens_per_second = gemm["gflops_best"] * 1e9 / flops["total"]
        bound = {
            "gflops_best": gemm["gflops_best"],
            "tokens_per_matmul": gemm["tokens_per_matmul"],
            "gflops_by_rows": {g["tokens_per_matmul"]: round(g["gflops_best"], 1) for g in gemms},
            "flops_per_token": flops,
            "tokens_per_second": tokens_per_second,
            "chars_per_second": tokens_per_second * stats["chars_per_input_token"],
        }
        for row in ours:
            row["fraction_of_bound"] = row["chars_per_second"] / bound["chars_per_second"]
            # Model time alone against the bound: how much of the gap is in the forward pass.
            row["forward_fraction_of_bound"] = (
                (row["real_tokens"] / row["model_seconds"]) / tokens_per_second if row["model_seconds"] else None
            )
        best_pipeline = max(baseline, key=lambda r: r["chars_per_second"]) if baseline else None
        if best_pipeline:
            for row in ours:
                row["speedup_over_pipeline"] = row["chars_per_second"] / best_pipeline["chars_per_second"]

        gold = gold_scores(predictors, args.gold, args.max_chars) if args.gold else None

    results = {
        "checkpoint": str(args.checkpoint),
        "inputs": args.inputs,
        "documents": len(docs),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cores_available": available_cores(),
            "threads": threads,
            "torch": torch.__version__,
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "settings": {k: v for k, v in vars(args).items() if k not in ("inputs", "checkpoint", "out")},
        "tokens": stats,
        "model_shape": shape,
        "ours": ours,
        "hf_pipeline": baseline,
        "bound": bound,
        "gold": gold,
        "peak_rss_mb_process": round(process_peak_rss_mb(), 1),
        "total_seconds": round(time.perf_counter() - total_started, 1),
    }
    print(format_results(results))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.out}")
    return results


def format_results(r: dict) -> str:
    t, b = r["tokens"], r["bound"]
    lines = [
        "",
        f"{r['documents']} documents, {t['document_chars']:,} characters, {t['input_tokens']:,} model tokens "
        f"({t['chars_per_input_token']:.2f} chars/token with CLS/SEP, {t['chars_per_content_token']:.2f} without), "
        f"{r['machine']['threads']} threads, load average {r['machine']['load_average']}",
        "",
        "| system | chars/s | x pipeline | of bound | forward of bound | model time | padding | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in r["ours"]:
        lines.append(
            f"| ours {row['engine']} | {row['chars_per_second']:,.0f} | {row.get('speedup_over_pipeline', float('nan')):.2f} "
            f"| {row['fraction_of_bound']:.0%} | {row['forward_fraction_of_bound'] or 0:.0%} "
            f"| {row['model_time_fraction']:.0%} | {row['padding_fraction']:.1%} | {row['peak_rss_mb']:.0f} |"
        )
    for row in r["hf_pipeline"]:
        lines.append(
            f"| {row['engine']} | {row['chars_per_second']:,.0f} | 1.00 | "
            f"{row['chars_per_second'] / b['chars_per_second']:.0%} | | | | {row['peak_rss_mb']:.0f} |"
        )
    lines += [
        f"| fp32 bound | {b['chars_per_second']:,.0f} | | 100% | | | | |",
        "",
        f"bound: {b['gflops_best']:.1f} GFLOP/s (best matmul rate, at {b['tokens_per_matmul']} rows; by rows: {b['gflops_by_rows']}) "
        f"/ {b['flops_per_token']['total'] / 1e6:.1f} MFLOP per token = {b['tokens_per_second']:,.0f} tokens/s",
    ]
    if r.get("gold"):
        g = r["gold"]
        lines.append(
            f"gold ({g['clauses']} clauses): "
            + ", ".join(
                f"{k} micro-F1 {v['micro_f1']:.4f} ({v['micro_f1_change']:+.4f}, {v['clauses_identical_to_first_engine']:.1%} clauses identical)"
                for k, v in g.items()
                if isinstance(v, dict)
            )
        )
    lines.append(f"total {r['total_seconds']:.0f} s, process peak RSS {r['peak_rss_mb_process']:.0f} MB")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
