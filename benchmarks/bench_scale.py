"""Time and peak memory of ``scripts/predict.py`` on a corpus and on fractions of it: does it scale linearly?

python benchmarks/bench_scale.py --checkpoint runs/e5_small/holdout-none \
    --inputs ../shared/corpus/cities-2024 --fractions 0.25,1 --out scale.json

Each fraction is the first files of the folder (sorted by name) up to that share of its
characters, given to ``scripts/predict.py`` as a folder of symbolic links (the corpus is
never copied). Every run is a fresh process: wall time, the time ``predict.py`` itself
reports (model loading excluded), and peak RSS, measured by ``/usr/bin/time -v`` where it
exists (the kernel's count for the process) and by polling the process tree with psutil.
Linear growth means equal seconds per million characters for every fraction; memory
that does not grow with the number of documents means equal peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from govreport_ner.text.reader import ReportReadError, list_report_files, read_report  # noqa: E402

TIME_BIN = "/usr/bin/time"


def file_sizes(folder: Path) -> list[tuple[Path, int]]:
    """(file, characters) of every report in the folder, in name order (unreadable ones count 0)."""
    sizes = []
    for path in list_report_files(folder):
        try:
            sizes.append((path, len(read_report(path).text)))
        except ReportReadError:
            sizes.append((path, 0))
    return sizes


def take_fraction(sizes: list[tuple[Path, int]], fraction: float) -> list[Path]:
    """The first files whose characters reach ``fraction`` of the total (at least one)."""
    total, taken, chars = sum(n for _, n in sizes), [], 0
    for path, n in sizes:
        if taken and chars >= fraction * total:
            break
        taken.append(path)
        chars += n
    return taken


def link_folder(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for path in files:
        (folder / path.name).symlink_to(path.resolve())
    return folder


class TreePeak(threading.Thread):
    """Polls the RSS of a process and its children; ``peak_mb`` is the largest sum seen."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_mb, self.stop = pid, interval, 0.0, threading.Event()

    def run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs if p.is_running())
                self.peak_mb = max(self.peak_mb, rss / 2**20)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
            self.stop.wait(self.interval)


def run_predict(checkpoint: str, inputs: Path, workdir: Path, overrides: list[str]) -> dict:
    """One ``scripts/predict.py`` process: wall time, its summary, peak RSS."""
    output, summary_file = workdir / "out.jsonl", workdir / "summary.json"
    command = [
        sys.executable,
        str(REPO / "scripts" / "predict.py"),
        f"checkpoint={checkpoint}",
        f"inputs={inputs}",
        f"output={output}",
        f"summary_file={summary_file}",
        "progress=false",
        *overrides,
    ]
    use_time = Path(TIME_BIN).exists()
    if use_time:
        command = [TIME_BIN, "-v", *command]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    poller = TreePeak(proc.pid)
    poller.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    poller.stop.set()
    poller.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"predict.py failed ({proc.returncode}):\n{stdout}\n{stderr[-3000:]}")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    peak_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr) if use_time else None
    return {
        "documents": summary["documents"],
        "characters": summary["characters"],
        "failures": len(summary["failures"]),
        "exit_code": proc.returncode,
        "wall_seconds": round(wall, 2),
        "predict_seconds": summary["seconds"],
        "load_seconds": summary["load_seconds"],
        "chars_per_second": summary["chars_per_second"],
        "seconds_per_million_chars": summary["seconds"] / summary["characters"] * 1e6
        if summary["characters"]
        else None,
        "peak_rss_mb_time": round(int(peak_kb.group(1)) / 1024, 1) if peak_kb else None,
        "peak_rss_mb_polled": round(poller.peak_mb, 1),
        "model_version": summary["model_version"],
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--inputs", required=True, help="a folder of reports")
    parser.add_argument("--fractions", default="0.25,1", help="shares of the corpus characters, comma-separated")
    parser.add_argument("--out", default=None)
    parser.add_argument("overrides", nargs="*", help="more predict.py overrides, e.g. engine=onnx num_threads=8")
    args = parser.parse_args(argv)

    sizes = file_sizes(Path(args.inputs))
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        for fraction in [float(f) for f in args.fractions.split(",")]:
            files = take_fraction(sizes, fraction)
            workdir = Path(tmp) / f"f{fraction}"
            inputs = link_folder(files, workdir / "inputs")
            print(f"[scale] fraction {fraction}: {len(files)} files ...", flush=True)
            row = {
                "fraction": fraction,
                "files": len(files),
                **run_predict(args.checkpoint, inputs, workdir, args.overrides),
            }
            runs.append(row)
            print(
                f"  {row['characters']:,} chars in {row['predict_seconds']:.1f} s "
                f"({row['seconds_per_million_chars']:.0f} s/Mchar), wall {row['wall_seconds']:.1f} s, "
                f"peak RSS {row['peak_rss_mb_time'] or row['peak_rss_mb_polled']:.0f} MB",
                flush=True,
            )
            shutil.rmtree(workdir / "inputs")
    small, large = min(runs, key=lambda r: r["characters"]), max(runs, key=lambda r: r["characters"])
    linearity = None
    if large["characters"] > small["characters"] and small["predict_seconds"] > 0:
        char_ratio = large["characters"] / small["characters"]
        time_ratio = large["predict_seconds"] / small["predict_seconds"]
        linearity = {
            "char_ratio": round(char_ratio, 3),
            "time_ratio": round(time_ratio, 3),
            "time_ratio_over_char_ratio": round(time_ratio / char_ratio, 3),  # 1.0 = exactly linear
            "peak_rss_ratio": round(
                (large["peak_rss_mb_time"] or large["peak_rss_mb_polled"])
                / (small["peak_rss_mb_time"] or small["peak_rss_mb_polled"]),
                3,
            ),
        }
    results = {
        "checkpoint": args.checkpoint,
        "inputs": args.inputs,
        "overrides": args.overrides,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "runs": runs,
        "linearity": linearity,
    }
    print(json.dumps(linearity, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    main()
