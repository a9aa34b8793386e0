"""Evaluation of a checkpoint (and of the rules) on gold clauses: per label, per region, reports and a chart."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from datasets import Dataset

from . import rules
from .dataset import example_spans
from .labels import LABELS
from .metrics import confusion, entity_scores
from .spans import Span

Predictor = Callable[[Sequence[str]], list[list[Span]]]


def rule_predictor(texts: Sequence[str]) -> list[list[Span]]:
    """The rule pre-annotator applied clause by clause."""
    return [rules.tag_clause(text) for text in texts]


def hybrid_predictor(model_predict: Predictor, rule_labels: Sequence[str] = rules.RULE_LABELS_FOR_HYBRID) -> Predictor:
    """Model spans for the labels rules are poor at, rule spans for ``rule_labels``."""

    def predict(texts: Sequence[str]) -> list[list[Span]]:
        return [
            rules.merge_with_rules(t, spans, rule_labels) for t, spans in zip(texts, model_predict(texts), strict=True)
        ]

    return predict


def score_predictions(dataset: Dataset, predicted: Sequence[Sequence[Span]]) -> dict:
    """Overall and per-region strict/partial scores plus the confusion table."""
    gold = [example_spans(e) for e in dataset]
    keys = dataset["id"]
    overall = entity_scores(zip(keys, gold, strict=True), zip(keys, predicted, strict=True))
    overall["confusion"] = confusion(zip(keys, gold, strict=True), zip(keys, predicted, strict=True))
    by_region: dict[str, list[int]] = defaultdict(list)
    for i, region in enumerate(dataset["region"]):
        by_region[region].append(i)
    overall["regions"] = {
        region: entity_scores([(keys[i], gold[i]) for i in idx], [(keys[i], predicted[i]) for i in idx])
        for region, idx in sorted(by_region.items())
    }
    return overall


def evaluate_systems(dataset: Dataset, systems: dict[str, Predictor]) -> dict:
    """Scores of every system (model, rules, ...) on the same clauses, with their predictions."""
    results = {}
    for name, predict in systems.items():
        predicted = predict(dataset["text"])
        results[name] = {"scores": score_predictions(dataset, predicted), "predictions": predicted}
    return results


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _score_row(scores: dict, label: str) -> dict:
    """A label's row, or the ``micro``/``macro`` summary row, of strict or partial scores."""
    return scores["per_label"][label] if label in LABELS else scores[label]


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown section: title, header row, separator, rows."""
    return [
        "",
        f"## {title}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def markdown_report(results: dict, title: str = "Evaluation") -> str:
    """Per-label tables (strict and partial) for each system, per-region micro-F1, and confusion."""
    systems = list(results)
    first = results[systems[0]]["scores"]
    strict_rows = [
        [label]
        + [
            _fmt(_score_row(results[s]["scores"]["strict"], label)[k])
            for s in systems
            for k in ("precision", "recall", "f1")
        ]
        + [str(_score_row(first["strict"], "micro" if label == "macro" else label)["support"])]
        for label in [*LABELS, "micro", "macro"]
    ]
    lines = [f"# {title}"]
    lines += _table(
        "Strict entity scores (span and label must match)",
        ["label", *(f"{s} {k}" for s in systems for k in ("P", "R", "F1")), "support"],
        strict_rows,
    )
    lines += _table(
        "Partial-overlap F1 (same label, spans overlap)",
        ["label", *systems],
        [
            [label] + [_fmt(_score_row(results[s]["scores"]["partial"], label)["f1"]) for s in systems]
            for label in [*LABELS, "micro"]
        ],
    )
    lines += _table(
        "Strict micro-F1 per region",
        ["region", *systems],
        [
            [region] + [_fmt(results[s]["scores"]["regions"][region]["strict"]["micro"]["f1"]) for s in systems]
            for region in first["regions"]
        ],
    )
    cols = [*LABELS, "O"]
    for system in systems:
        table = results[system]["scores"]["confusion"]
        lines += _table(
            f"Confusion ({system}): gold rows, predicted columns, overlapping spans; O = missed / spurious",
            ["gold \\ predicted", *cols],
            [[g] + [str(table[g][p]) for p in cols] for g in cols],
        )
    return "\n".join(lines) + "\n"


def plot_f1_by_region(results: dict, path: Path | str, system: str, display: dict[str, str] | None = None) -> Path:
    """A grouped bar chart of per-label strict F1 in each region (PNG).

    ``display`` maps region names to the axis labels (ASCII ids, since CJK fonts are often absent).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regions = results[system]["scores"]["regions"]
    names = list(regions)
    width = 0.8 / len(LABELS)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names) + 2), 4))
    for i, label in enumerate(LABELS):
        values = [regions[r]["strict"]["per_label"][label]["f1"] for r in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=label)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(names))])
    ax.set_xticklabels([(display or {}).get(n, n) for n in names])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("strict F1")
    ax.set_title(f"Per-label F1 by region ({system})")
    ax.legend(ncol=len(LABELS), fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.08))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def write_reports(
    results: dict, out_dir: Path | str, main_system: str, display: dict[str, str] | None = None
) -> dict[str, Path]:
    """``evaluation.json`` (scores), ``evaluation.md`` and ``f1_by_region.png`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scores = {name: r["scores"] for name, r in results.items()}
    paths = {"json": out / "evaluation.json", "markdown": out / "evaluation.md", "chart": out / "f1_by_region.png"}
    paths["json"].write_text(json.dumps(scores, ensure_ascii=False, indent=2), encoding="utf-8")
    paths["markdown"].write_text(markdown_report(results), encoding="utf-8")
    plot_f1_by_region(results, paths["chart"], main_system, display)
    return paths


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
