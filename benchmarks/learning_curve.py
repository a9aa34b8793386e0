"""A learning curve: the fold scores of one setting trained on shares of the training regions.

python benchmarks/learning_curve.py 0.25=reports/kfold_e5_small_lc0.25_seed42/loro.json \
    0.5=reports/kfold_e5_small_lc0.5_seed42/loro.json 1=reports/kfold_e5_small_6ep_seed42/loro.json \
    --out reports/learning_curve_seed42

Each argument is ``SHARE=loro.json``: an ``aggregate.py`` summary of fold runs trained with
``data.train_fraction=SHARE`` (1: all training regions), on the same folds and seeds. Written:
``OUT.md`` (mean ± std per label at each share, each step paired fold by fold with
``scripts/compare.py``'s rule, and the gain per doubling of the gold), ``OUT.json`` and ``OUT.png``.
The gain per doubling is the least-squares slope of the mean F1 on log2(share); read past the
largest share it is an extrapolation, not a measurement.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

from govreport_ner.evaluate.folds import paired_differences
from govreport_ner.labels import LABELS

METRICS = ("micro_f1", *(f"f1_{label}" for label in LABELS))


def parse_point(arg: str) -> tuple[float, Path]:
    """``SHARE=PATH`` -> (share, path)."""
    share, sep, path = arg.partition("=")
    try:
        value = float(share)
    except ValueError:
        value = -1.0
    if not sep or not 0 < value <= 1:
        raise ValueError(f"expected SHARE=loro.json with 0 < SHARE <= 1, got {arg!r}")
    return value, Path(path)


def doubling_gain(shares: list[float], means: list[float]) -> float:
    """Least-squares slope of ``means`` on log2(shares): F1 gained per doubling of the gold."""
    xs = [math.log2(s) for s in shares]
    mx, my = sum(xs) / len(xs), sum(means) / len(means)
    spread = sum((x - mx) ** 2 for x in xs)
    if spread == 0:
        raise ValueError("a learning curve needs at least two different shares")
    return sum((x - mx) * (y - my) for x, y in zip(xs, means, strict=True)) / spread


def learning_curve(points: dict[float, dict], system: str = "model") -> dict:
    """Mean/std per metric at each share, paired steps between neighbouring shares, gain per doubling."""
    shares = sorted(points)
    curve = {
        share: {m: points[share]["summary"][system][m] for m in METRICS if m in points[share]["summary"][system]}
        for share in shares
    }
    steps = [
        {"from": a, "to": b, **paired_differences(points[a], points[b], system)} for a, b in itertools.pairwise(shares)
    ]
    metrics = [m for m in METRICS if all(m in curve[s] for s in shares)]
    gains = {m: doubling_gain(shares, [curve[s][m]["mean"] for s in shares]) for m in metrics}
    return {"system": system, "shares": shares, "curve": curve, "steps": steps, "gain_per_doubling": gains}


def markdown(result: dict) -> str:
    """The curve, its paired steps and the gain per doubling as Markdown tables."""
    metrics = list(result["gain_per_doubling"])
    head = (
        "| share of training regions | " + " | ".join(m.removeprefix("f1_").removesuffix("_f1") for m in metrics) + " |"
    )
    rule = "|---" * (len(metrics) + 1) + "|"
    lines = [f"Learning curve of `{result['system']}` (strict F1, mean ± std over the fold runs)", "", head, rule]
    for share in result["shares"]:
        scores = result["curve"][share]
        lines.append(
            f"| {share:g} | " + " | ".join(f"{scores[m]['mean']:.3f} ± {scores[m]['std']:.3f}" for m in metrics) + " |"
        )
    lines += ["", "Each step paired fold by fold (difference ± its spread, runs up / down):", "", head, rule]
    for step in result["steps"]:
        cells = []
        for m in metrics:
            d = step["differences"][m]
            mark = "**" if d["beyond_spread"] else ""
            cells.append(f"{mark}{d['mean']:+.3f}{mark} ± {d['std']:.3f} ({d['up']}/{d['down']})")
        lines.append(f"| {step['from']:g} -> {step['to']:g} | " + " | ".join(cells) + " |")
    gains = result["gain_per_doubling"]
    lines += [
        "",
        "| gain per doubling (slope on log2 share) | " + " | ".join(f"{gains[m]:+.3f}" for m in metrics) + " |",
    ]
    lines += ["|---" * (len(metrics) + 1) + "|", ""]
    lines.append("Bold: a step larger than the spread of its paired differences (a result).")
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> Path:
    """F1 against the share of training regions (log scale), one line per metric, std as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    shares = result["shares"]
    for m in result["gain_per_doubling"]:
        scores = [result["curve"][s][m] for s in shares]
        ax.errorbar(
            shares, [s["mean"] for s in scores], yerr=[s["std"] for s in scores], marker="o", capsize=3, label=m
        )
    ax.set_xscale("log", base=2)
    ax.set_xticks(shares, [f"{s:g}" for s in shares])
    ax.set_xlabel("share of the training regions")
    ax.set_ylabel("strict F1 on the held-out fold")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("points", nargs="+", help="SHARE=loro.json, one per share")
    parser.add_argument("--system", default="model", help="model | model+rules | rules")
    parser.add_argument("--out", type=Path, help="write OUT.md, OUT.json and OUT.png")
    args = parser.parse_args(argv)
    try:
        parsed = [parse_point(p) for p in args.points]
    except ValueError as err:
        parser.error(str(err))
    missing = [str(path) for _, path in parsed if not path.is_file()]
    if missing:
        parser.error(f"not found: {', '.join(missing)} (give loro.json files written by scripts/aggregate.py)")
    points = {share: json.loads(path.read_text(encoding="utf-8")) for share, path in parsed}
    result = learning_curve(points, args.system)
    text = markdown(result)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".md").write_text(text, encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        plot(result, args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
