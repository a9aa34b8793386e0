"""``status``: tasks, annotated tasks and entities per region of a project."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from govreport_ner.annotation.labelstudio_format import (
    choose_annotation,
)
from govreport_ner.labels import LABELS
from govreport_ner.labelstudio.client import ApiSettings, export_tasks, require_project
from govreport_ner.labelstudio.exporter import _entities

if TYPE_CHECKING:  # the SDK is imported lazily: the pure helpers work without it
    from label_studio_sdk import LabelStudio


def status_table(export: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per region (and ``total``): tasks, annotated tasks, entities and entities per label."""
    rows: dict[str, Counter] = defaultdict(Counter)
    for task in export:
        data = task.get("data") or {}
        row = rows[str(data.get("region", "")) or "-"]
        row["tasks"] += 1
        chosen = choose_annotation(task.get("annotations") or [])
        if chosen is None:
            continue
        row["annotated"] += 1
        for _start, _end, label, _text in _entities(chosen):
            row["entities"] += 1
            row[label] += 1
    total: Counter = Counter()
    for row in rows.values():
        total.update(row)
    columns = ("tasks", "annotated", "entities", *LABELS)
    table = {region: {c: rows[region][c] for c in columns} for region in sorted(rows)}
    table["total"] = {c: total[c] for c in columns}
    return table


def format_status(table: Mapping[str, Mapping[str, int]]) -> str:
    """The status table as Markdown."""
    columns = ["tasks", "annotated", "entities", *LABELS]
    lines = ["| region | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for region, row in table.items():
        name = "**total**" if region == "total" else region
        lines.append(f"| {name} | " + " | ".join(str(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def status(client: LabelStudio, title: str, api: ApiSettings) -> dict[str, dict[str, int]]:
    """The status table of the project titled ``title`` (from a fresh JSON export)."""
    return status_table(export_tasks(client, require_project(client, title, api)))
