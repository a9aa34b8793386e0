"""Training wall time per epoch and peak memory of ``scripts/train.py`` (a fresh process).

python benchmarks/bench_train.py --out train_bench.json -- +experiment=e5_small \
    model.name_or_path=../shared/models/multilingual-e5-small-zh output_dir=runs/e5_small/holdout-none

Everything after ``--`` is passed to ``scripts/train.py``. Reported: wall time of the process,
the Trainer's own training time (model loading and final evaluation excluded) per epoch and per
step, and peak RSS (the kernel's high-water mark of the child, from ``getrusage``), with the load
average before and after (numbers from a busy machine are not comparable).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def output_dir_of(overrides: list[str]) -> Path:
    """The ``output_dir=`` override (required, so the metrics can be read back)."""
    for item in overrides:
        if item.startswith("output_dir="):
            return Path(item.split("=", 1)[1])
    raise SystemExit("pass output_dir=DIR among the train.py overrides")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("overrides", nargs=argparse.REMAINDER, help="-- then scripts/train.py overrides")
    args = parser.parse_args(argv)
    overrides = [o for o in args.overrides if o != "--"]
    output_dir = output_dir_of(overrides)
    load_before = os.getloadavg()
    started = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), *overrides], cwd=REPO, check=True)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    metrics = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"))
    result = {
        "overrides": overrides,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "torch_threads": metrics.get("torch_threads"),
        },
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "wall_seconds": round(wall, 1),
        "train_seconds": round(metrics["train_seconds"], 1),
        "epochs": metrics["epochs"],
        "steps": metrics["train_steps"],
        "seconds_per_epoch": round(metrics["train_seconds"] / metrics["epochs"], 1),
        "seconds_per_step": round(metrics["train_seconds"] / metrics["train_steps"], 3),
        "train_clauses": metrics["train_clauses"],
        "peak_rss_mb": round(peak_mb, 1),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
