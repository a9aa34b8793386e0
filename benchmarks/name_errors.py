"""Where the name errors are: every gold PROJECT/PROGRAM span of held-out fold runs sorted into one
kind of outcome, and every unmatched prediction likewise (the shipped predictor's snapping applied).

python benchmarks/name_errors.py runs/e5_ep6_seed42/holdout-fold-* --out reports/name_errors.json
python benchmarks/name_errors.py runs/e5_ep6_seed42/holdout-fold-* --min-score 0.5   # drop low-scored names

Gold outcomes: ``exact`` (same span, same label), ``other_label`` (same span, the other name
label), ``boundary`` (a same-label prediction overlaps it with other edges), ``boundary_other_label``
(only an other-label prediction overlaps it, with other edges), ``missed`` (nothing overlaps it).
Predictions without an exact match: ``overlaps_gold`` or ``spurious`` (no gold span of any label
under it). ``--min-score`` drops predicted names the model scores below it first (a precision
knob). The strict F1 of each name label is printed too. Raw predictions are cached per run as in
``ablate_snap.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ablate_snap import held_out_predictions  # noqa: E402

NAMES = ("PROJECT", "PROGRAM")


def gold_outcome(gold, predicted) -> str:
    """How the prediction treats one gold name span."""
    over = [p for p in predicted if p.overlaps(gold)]
    same_edges = [p for p in over if (p.start, p.end) == (gold.start, gold.end)]
    if any(p.label == gold.label for p in same_edges):
        return "exact"
    if same_edges:
        return "other_label"
    if any(p.label == gold.label for p in over):
        return "boundary"
    return "boundary_other_label" if over else "missed"


def prediction_outcome(pred, gold) -> str | None:
    """None for an exact match; else whether the wrong name sits on gold text or on none."""
    if any((g.start, g.end, g.label) == (pred.start, pred.end, pred.label) for g in gold):
        return None
    return "overlaps_gold" if any(g.overlaps(pred) for g in gold) else "spurious"


def kept(span, min_score: float | None) -> bool:
    """False for a name the model scored below ``min_score``."""
    return min_score is None or span.label not in NAMES or span.score is None or span.score >= min_score


def run_outcomes(run: Path, threads: int | None, min_score: float | None = None) -> dict[str, Counter]:
    """Per name label, the counts of gold and prediction outcomes on one run's held-out clauses."""
    from govreport_ner.data.dataset import example_spans
    from govreport_ner.extract.snap import snap_spans

    test, raw = held_out_predictions(run, threads)
    counts = {label: Counter() for label in NAMES}
    for example, spans in zip(test, raw, strict=True):
        gold = example_spans(example)
        predicted = [p for p in snap_spans(example["text"], spans) if kept(p, min_score)]
        for g in gold:
            if g.label in NAMES:
                counts[g.label]["gold_" + gold_outcome(g, predicted)] += 1
        for p in predicted:
            if p.label in NAMES and (kind := prediction_outcome(p, gold)):
                counts[p.label]["pred_" + kind] += 1
    return counts


def gold_total(counts: Counter) -> int:
    """The gold names behind the outcome counts (each has exactly one ``gold_`` outcome)."""
    return sum(v for k, v in counts.items() if k.startswith("gold_"))


def pooled_f1(counts: Counter) -> float:
    """Strict F1 from the outcome counts: exact matches against all gold and all predictions."""
    exact, n_gold = counts["gold_exact"], gold_total(counts)
    n_pred = exact + counts["pred_overlaps_gold"] + counts["pred_spurious"]
    return 2 * exact / (n_gold + n_pred) if n_gold + n_pred else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--min-score", type=float, default=None)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    total = {label: Counter() for label in NAMES}
    for run in args.runs:
        for label, counts in run_outcomes(run, args.threads, args.min_score).items():
            total[label].update(counts)
        print(run, file=sys.stderr, flush=True)
    for label, counts in total.items():
        n_gold = gold_total(counts)
        print(f"{label}: {n_gold} gold, strict F1 (pooled) {pooled_f1(counts):.3f}")
        for kind, n in sorted(counts.items()):
            share = f" ({n / n_gold:.1%} of gold)" if kind.startswith("gold_") else ""
            print(f"  {kind:>26} {n}{share}")
    if args.out:
        counts = {k: dict(v) for k, v in total.items()}
        result = {"runs": [str(r) for r in args.runs], "min_score": args.min_score, "counts": counts}
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
