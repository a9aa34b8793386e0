"""The local runner against the Ray runner (1 and 2 actors) on the same reports, and Ray's start-up cost, in one run.

python benchmarks/bench_ray.py --checkpoint ../shared/models/multilingual-e5-small-zh \
    --inputs ../shared/corpus/cities-2024 --limit-docs 3 --out reports/bench/ray.json

Rows (same checkpoint, same engine: the default, ``engine=auto``, unless ``--engine``):

* ``local``: :func:`govreport_ner.predict.batch.run_batch`, all cores (what ``predict.py`` runs);
  timed from the first document read to the output renamed, model loading excluded.
* ``ray 1x2``: :func:`govreport_ner.predict.ray_runner.run_ray`, one actor with all (2) CPUs;
  ``ray 2x1``: two actors with one CPU each. Timed like ``predict.py runner=ray`` in a
  running Ray: the whole call, so actor start-up and each actor's model load are included.
* start-up: ``ray.init`` on this machine, and a Ray run over one short document (actors
  started, model loaded in each, one document tagged, the output written).

Ray is started once (``ray.init(num_cpus=cores)``) and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from govreport_ner.model.threads import available_cores  # noqa: E402
from govreport_ner.predict.batch import run_batch  # noqa: E402
from govreport_ner.predict.predictors import load_predictor  # noqa: E402
from govreport_ner.predict.ray_runner import run_ray  # noqa: E402
from govreport_ner.text.reader import list_report_files  # noqa: E402


def link_reports(inputs: list[str], limit: int, folder: Path) -> list[Path]:
    """The first ``limit`` report files of the inputs (by name), linked into ``folder``."""
    files = [f for path in inputs for f in (list_report_files(Path(path)) if Path(path).is_dir() else [Path(path)])]
    folder.mkdir(parents=True)
    for f in files[:limit]:
        (folder / f.name).symlink_to(f.resolve())
    return files[:limit]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--inputs", nargs="+", required=True)
    parser.add_argument("--limit-docs", type=int, default=3)
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--batch-docs", type=int, default=4, help="documents per map_batches call")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    import ray

    cores = available_cores()
    results: dict = {"checkpoint": args.checkpoint, "engine": args.engine, "cores": cores, "rows": []}
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        work = Path(tmp)
        files = link_reports(args.inputs, args.limit_docs, work / "reports")
        (work / "one").mkdir()
        (work / "one" / "one.txt").write_text("到2025年新建学校12所，完成投资3.5亿元。\n", encoding="utf-8")
        options = {"checkpoint": str(Path(args.checkpoint).resolve()), "engine": args.engine}

        started = time.perf_counter()
        predictor = load_predictor(options["checkpoint"], engine=args.engine)  # also makes the ONNX export once
        load = time.perf_counter() - started
        predictor.predict_documents(["到2025年新建学校12所。"])  # warm-up
        summary = run_batch(predictor, work / "reports", work / "local.jsonl", progress=False)
        results["documents"], results["characters"] = summary.documents, summary.characters
        results["rows"].append(
            {
                "runner": "local",
                "engine": summary.engine,
                "seconds": round(summary.seconds, 2),
                "chars_per_second": round(summary.chars_per_second),
                "load_seconds": round(load, 2),
            }
        )
        print(results["rows"][-1], flush=True)
        del predictor

        started = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, logging_level="WARNING")
        results["ray_init_seconds"] = round(time.perf_counter() - started, 2)
        try:
            started = time.perf_counter()
            run_ray(options, work / "one", work / "one.jsonl", progress=False, actors=1, cpus_per_actor=cores)
            results["ray_one_document_seconds"] = round(time.perf_counter() - started, 2)
            print({k: v for k, v in results.items() if k.startswith("ray_")}, flush=True)
            for actors in (1, 2):
                cpus = max(1, cores // actors)
                out = work / f"ray{actors}.jsonl"
                started = time.perf_counter()
                summary = run_ray(
                    options,
                    work / "reports",
                    out,
                    progress=False,
                    actors=actors,
                    cpus_per_actor=cpus,
                    batch_docs=args.batch_docs,
                )
                seconds = time.perf_counter() - started
                same = out.read_bytes() == (work / "local.jsonl").read_bytes()
                results["rows"].append(
                    {
                        "runner": f"ray {actors}x{cpus}",
                        "engine": summary.engine,
                        "seconds": round(seconds, 2),
                        "chars_per_second": round(summary.characters / seconds),
                        "output_identical_to_local": same,
                    }
                )
                print(results["rows"][-1], flush=True)
        finally:
            ray.shutdown()
    results["files"] = [f.name for f in files]
    results["machine"] = {
        "platform": platform.platform(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    print(format_results(results))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return results


def format_results(r: dict) -> str:
    lines = [
        f"{r['documents']} reports, {r['characters']:,} characters, {r['cores']} cores, "
        f"load average {r['machine']['load_average']}",
        "",
        "| runner | engine | seconds | chars/s | output = local |",
        "|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        same = row.get("output_identical_to_local", "")
        lines.append(f"| {row['runner']} | {row['engine']} | {row['seconds']} | {row['chars_per_second']:,} | {same} |")
    lines.append(
        f"Ray start-up: ray.init {r['ray_init_seconds']} s; a run over one short document "
        f"(actor start, model load, output) {r['ray_one_document_seconds']} s"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
