"""Evaluation reports: Markdown tables (strict and partial per label, per region, confusion) and
the files ``evaluation.json``, ``evaluation.md`` and ``f1_by_region.png``."""

from __future__ import annotations

import json
from pathlib import Path

from govreport_ner.evaluate.charts import plot_f1_by_region
from govreport_ner.labels import LABELS


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _score_row(scores: dict, label: str) -> dict:
    """A label's row, or the ``micro``/``macro`` summary row, of strict or partial scores."""
    return scores["per_label"][label] if label in LABELS else scores[label]


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """The lines of a Markdown table: header row, separator, rows (the one table renderer of the reports)."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown section: title, then the table."""
    return ["", f"## {title}", "", *markdown_table(header, rows)]


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


def write_reports(
    results: dict,
    out_dir: Path | str,
    main_system: str,
    display: dict[str, str] | None = None,
    evaluated: dict | None = None,
) -> dict[str, Path]:
    """``evaluation.json`` (scores per system, and ``evaluated``: split, regions, ...), ``evaluation.md``
    and ``f1_by_region.png`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scores = {name: r["scores"] for name, r in results.items()}
    if evaluated is not None:
        scores["evaluated"] = evaluated
    paths = {"json": out / "evaluation.json", "markdown": out / "evaluation.md", "chart": out / "f1_by_region.png"}
    paths["json"].write_text(json.dumps(scores, ensure_ascii=False, indent=2), encoding="utf-8")
    markdown = markdown_report(results)
    if evaluated is not None:
        lines = [
            f"Split `{evaluated['split']}` (data.holdout={evaluated['holdout']}): {evaluated['clauses']} clauses of "
            + ", ".join(evaluated["regions"])
            + "."
        ]
        if evaluated.get("trained_regions_evaluated"):
            lines.append(
                f"**WARNING: the checkpoint was trained on {evaluated['trained_regions_evaluated']}: "
                "these are not held-out scores.**"
            )
        title, _, rest = markdown.partition("\n")
        markdown = "\n".join([title, "", *lines, rest])
    paths["markdown"].write_text(markdown, encoding="utf-8")
    plot_f1_by_region(results, paths["chart"], main_system, display)
    return paths
