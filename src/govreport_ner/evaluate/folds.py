"""Leave-one-region-out: mean and spread of each metric over the folds."""

from __future__ import annotations

import statistics

from govreport_ner.evaluate.report import markdown_table
from govreport_ner.labels import LABELS


def aggregate_folds(fold_metrics: dict[str, dict], prefix: str = "test_") -> dict:
    """Mean, standard deviation, min and max of each metric over leave-one-region-out folds."""
    keys = sorted({k for m in fold_metrics.values() for k in m if k.startswith(prefix) and isinstance(m[k], float)})
    summary = {}
    for key in keys:
        values = [m[key] for m in fold_metrics.values() if key in m]
        summary[key[len(prefix) :]] = {
            "mean": statistics.fmean(values),
            "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
            "folds": len(values),
        }
    return summary


def combine_seeds(per_seed: dict[str, dict]) -> dict:
    """Several seeds' fold summaries pooled: every (seed, fold) run counts once in the mean and spread.

    ``seeds`` keeps each seed's own means (``{system: {seed: {metric: mean}}}``), so the spread
    between seeds can be told apart from the spread between folds.
    """
    folds: dict[str, dict] = {}
    for seed, summary in per_seed.items():
        for system, runs in summary["folds"].items():
            folds.setdefault(system, {}).update({f"{seed}/{fold}": scores for fold, scores in runs.items()})
    seeds = {
        system: {seed: {k: row["mean"] for k, row in s["summary"][system].items()} for seed, s in per_seed.items()}
        for system in folds
    }
    return {"folds": folds, "summary": {name: aggregate_folds(f) for name, f in folds.items()}, "seeds": seeds}


def fold_scores(strict: dict) -> dict[str, float]:
    """One fold's strict scores in the ``metrics.json`` naming (``test_micro_f1``, ``test_f1_UNIT``…).

    A label with neither gold nor predicted spans in the fold (no DEADLINE in 齐齐哈尔市) has no
    F1 there and is left out of that label's mean.
    """
    return {
        "test_micro_f1": strict["micro"]["f1"],
        "test_macro_f1": strict["macro"]["f1"],
        **{
            f"test_f1_{label}": row["f1"]
            for label, row in strict["per_label"].items()
            if row["support"] or row["predicted"]
        },
    }


def format_loro(summary: dict) -> str:
    """The leave-one-region-out table: mean ± std (min-max) of each system per metric, and per fold."""
    keys = [
        "micro_f1",
        "macro_f1",
        *(f"f1_{label}" for label in LABELS),
    ]
    systems = list(summary["summary"])
    folds = list(summary["folds"]["model"])
    rows = []
    for key in keys:
        cells = []
        for system in systems:
            row = summary["summary"][system].get(key)
            cells.append(f"{row['mean']:.3f} ± {row['std']:.3f} ({row['min']:.2f}-{row['max']:.2f})" if row else "-")
        rows.append([key, *cells])
    per_fold = [
        [fold]
        + [f"{summary['folds'][s][fold]['test_micro_f1']:.3f}" if fold in summary["folds"][s] else "-" for s in systems]
        for fold in folds
    ]
    seeds = summary.get("seeds", {})
    runs = f"{len(folds)} runs ({len(seeds['model'])} seeds x folds)" if seeds else f"{len(folds)} folds"
    lines = [
        f"Held-out regions, {runs} ({', '.join(folds)}); strict entity F1, mean ± std (min-max)",
        "",
        *markdown_table(["metric", *systems], rows),
        "",
        *markdown_table(["fold (held out)", *(f"{s} micro-F1" for s in systems)], per_fold),
    ]
    if seeds:
        per_seed = [
            [seed] + [f"{seeds[s][seed].get('micro_f1', float('nan')):.3f}" for s in systems] for seed in seeds["model"]
        ]
        lines += ["", *markdown_table(["seed (mean over its folds)", *(f"{s} micro-F1" for s in systems)], per_seed)]
    return "\n".join(lines) + "\n"


def _runs_by_seed_and_fold(summary: dict, system: str) -> dict[tuple[int, str], dict]:
    """A summary's runs of ``system`` keyed by (position of its seed, fold name); one sweep is seed 0."""
    seeds: dict[str, int] = {}
    runs = {}
    for key, scores in summary["folds"][system].items():
        seed, _, fold = key.rpartition("/")
        runs[seeds.setdefault(seed, len(seeds)), fold] = scores
    return runs


def paired_differences(
    baseline: dict, candidate: dict, system: str = "model", prefix: str = "test_", pairing: str = "seed"
) -> dict:
    """Candidate minus baseline, run by run: the same fold of the i-th seed of each (``aggregate.py`` summaries).

    ``pairing="fold"`` is for a candidate with one run per fold (an ensemble of the baseline's
    seeds): every baseline run is paired with the candidate's run of the same fold.

    Per metric: the mean and spread of the differences, how many runs went up and down, and
    ``beyond_spread`` (the mean difference larger than the spread of the differences: a result).
    """
    base, cand = _runs_by_seed_and_fold(baseline, system), _runs_by_seed_and_fold(candidate, system)
    if pairing not in ("seed", "fold"):
        raise ValueError(f"pairing must be seed or fold, not {pairing!r}")
    if pairing == "fold":
        if len({seed for seed, _ in cand}) != 1:
            raise ValueError("pairing=fold needs a candidate with one run per fold (one sweep, or an ensemble)")
        by_fold = {fold: scores for (_, fold), scores in cand.items()}
        cand = {(seed, fold): by_fold[fold] for seed, fold in base if fold in by_fold}
    pairs = sorted(base.keys() & cand.keys())
    if not pairs:
        raise ValueError(
            f"the two summaries share no (seed, fold) run of {system!r}: were they made on the same folds?"
        )
    order = [f"{prefix}{k}" for k in ("micro_f1", "macro_f1", *(f"f1_{label}" for label in LABELS))]
    found = {k for p in pairs for k in base[p] if k.startswith(prefix) and k in cand[p]}
    metrics = [k for k in order if k in found] + sorted(found - set(order))
    differences = {}
    for key in metrics:
        diffs = [cand[p][key] - base[p][key] for p in pairs if key in base[p] and key in cand[p]]
        mean, std = statistics.fmean(diffs), statistics.pstdev(diffs) if len(diffs) > 1 else 0.0
        differences[key[len(prefix) :]] = {
            "mean": mean,
            "std": std,
            "up": sum(d > 0 for d in diffs),
            "down": sum(d < 0 for d in diffs),
            "runs": len(diffs),
            "beyond_spread": abs(mean) > std,
        }
    unpaired = len(base.keys() ^ cand.keys())
    return {"system": system, "pairing": pairing, "pairs": len(pairs), "unpaired": unpaired, "differences": differences}


def format_differences(comparison: dict, baseline: dict, candidate: dict, names: tuple[str, str]) -> str:
    """The paired comparison as Markdown: each side's mean ± std, the difference, runs up/down, a verdict."""
    system, rows = comparison["system"], []
    for key, d in comparison["differences"].items():
        sides = [s["summary"][system].get(key) for s in (baseline, candidate)]
        verdict = ("up" if d["mean"] > 0 else "down") if d["beyond_spread"] else "within the spread"
        rows.append(
            [
                key,
                *(f"{s['mean']:.3f} ± {s['std']:.3f}" if s else "-" for s in sides),
                f"{d['mean']:+.3f} ± {d['std']:.3f}",
                f"{d['up']} / {d['down']} of {d['runs']}",
                verdict,
            ]
        )
    header = ["metric", names[0], names[1], "difference (paired)", "runs up / down", "verdict"]
    how = "same fold" if comparison.get("pairing") == "fold" else "same seed position, same fold"
    note = f"{comparison['pairs']} paired runs ({how}) of `{system}`"
    if comparison["unpaired"]:
        note += f"; {comparison['unpaired']} runs without a partner left out"
    return "\n".join([note, "", *markdown_table(header, rows)]) + "\n"
