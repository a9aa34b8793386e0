"""What an ensemble costs at inference: one checkpoint against the first k of several, on the same documents.

python benchmarks/bench_ensemble.py --checkpoints runs/e5_small/holdout-none/seed-42 \
    runs/e5_small/holdout-none/seed-7 \
    --inputs ../shared/corpus/cities-2024 --limit-docs 6 --out reports/bench/ensemble2_shipped_cost.json

For k = 1 .. len(checkpoints) the documents go through ``run_batch`` (what ``predict.py`` runs)
with ``checkpoint=[first k]`` and the default engine: characters per second (model loading
excluded, one warm-up first), load seconds and peak RSS of the phase (Linux VmHWM, reset between
phases). The cost does not depend on the weights, so members of any training of the same setting
(fold checkpoints, or one checkpoint given several times) measure the same thing.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / "src", REPO / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_predict import load_documents, peak_rss_mb, reset_peak_rss  # noqa: E402

from govreport_ner.model.threads import configure_threads  # noqa: E402
from govreport_ner.predict.batch import run_batch  # noqa: E402
from govreport_ner.predict.predictors import load_predictor  # noqa: E402


def measure(members: list[str], inputs: Path, workdir: Path, args) -> dict:
    """One phase: the ensemble of ``members`` (one member: a plain model) over the documents."""
    reset_peak_rss()
    started = time.perf_counter()
    predictor = load_predictor(
        members[0] if len(members) == 1 else members, onnx_dir=args.onnx_dir, num_threads=args.num_threads
    )
    load_seconds = time.perf_counter() - started
    predictor.predict_documents(["二〇二四年，全市地区生产总值增长5%左右。"])  # warm-up
    summary = run_batch(predictor, inputs, workdir / f"out-{len(members)}.jsonl", progress=False)
    row = {
        "members": len(members),
        "engine": predictor.engine,
        "load_seconds": round(load_seconds, 2),
        "seconds": round(summary.seconds, 2),
        "characters": summary.characters,
        "chars_per_second": round(summary.characters / summary.seconds, 1),
        "entities": summary.entities,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    del predictor
    gc.collect()
    return row


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", nargs="+", required=True, help="training output_dirs of one setting")
    parser.add_argument("--inputs", nargs="+", required=True, help="report files, folders or JSONL files")
    parser.add_argument("--limit-docs", type=int, default=6, help="only the first N documents")
    parser.add_argument("--onnx-dir", default=None, help="ONNX cache (default: beside each checkpoint)")
    parser.add_argument("--num-threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--out", default=None, help="write the results here as JSON")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    threads = configure_threads(args.num_threads)
    docs = load_documents(args.inputs, args.limit_docs, None)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_ensemble_") as tmp:
        inputs = Path(tmp) / "inputs.jsonl"
        inputs.write_text(
            "".join(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
        )
        for k in range(1, len(args.checkpoints) + 1):
            rows.append(measure(args.checkpoints[:k], inputs, Path(tmp), args))
            print(json.dumps(rows[-1]), flush=True)
    single = rows[0]["chars_per_second"]
    for row in rows:
        row["time_vs_one_model"] = round(single / row["chars_per_second"], 2)
    result = {"documents": len(docs), "threads": threads, "checkpoints": args.checkpoints, "rows": rows}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
