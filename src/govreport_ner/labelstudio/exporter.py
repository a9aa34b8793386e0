"""``pull``: the project's annotations exported to a new timestamped file, validated, with a diff
against the previous pull."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govreport_ner.annotation.corpus_gold import excerpt_from_data, task_record, write_standoff
from govreport_ner.annotation.labelstudio_format import (
    AnnotatedTask,
    ExportReport,
    ExportValidationError,
    choose_annotation,
    parse_export,
)
from govreport_ner.labelstudio.client import (
    ApiSettings,
    LabelStudioError,
    export_tasks,
    require_project,
)
from govreport_ner.labelstudio.importer import TaskKey, task_key

if TYPE_CHECKING:  # the SDK is imported lazily: the pure helpers work without it
    from label_studio_sdk import LabelStudio


PULL_RE = re.compile(r"^labelstudio-(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")


HISTORY_DIR = "history"  # earlier pulls: kept, but out of ``read_export(folder)``'s ``*.json``


def pull_files(folder: Path | str) -> list[Path]:
    """The pull files of a folder and its ``history/``, oldest first (by the UTC timestamp in their names)."""
    folder = Path(folder)
    found = [
        (m.group(1), int(m.group(2) or 0), p)
        for d in (folder, folder / HISTORY_DIR)
        if d.is_dir()
        for p in d.iterdir()
        if (m := PULL_RE.match(p.name))
    ]
    return [p for *_, p in sorted(found)]


def archive_pulls(folder: Path | str, keep: Path) -> list[Path]:
    """Move the pull files of ``folder`` other than ``keep`` into ``folder/history/`` (none is overwritten).

    Each pull is a full snapshot and ``read_export`` concatenates every ``*.json`` of a folder,
    so only the latest may stay at the top for ``data.gold=<folder>`` to count each task once.
    """
    folder = Path(folder)
    moved = []
    for path in sorted(folder.glob("labelstudio-*.json")):
        if path == keep or not PULL_RE.match(path.name):
            continue
        target = folder / HISTORY_DIR / path.name
        if target.exists():
            raise LabelStudioError(f"cannot archive {path}: {target} exists; move one of them by hand")
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        moved.append(target)
    return moved


def new_pull_path(folder: Path | str, now: datetime | None = None) -> Path:
    """``folder/labelstudio-<UTC timestamp>.json``, with ``-1``, ``-2``... if that name is taken."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(folder)
    path, n = folder / f"labelstudio-{stamp}.json", 0
    while path.exists() or (folder / HISTORY_DIR / path.name).exists():
        n += 1
        path = folder / f"labelstudio-{stamp}-{n}.json"
    return path


def write_new_file(path: Path, tasks: Sequence[dict]) -> Path:
    """Write JSON to a path that must not exist yet (exclusive create: never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        json.dump(list(tasks), handle, ensure_ascii=False, indent=1)
    return path


Entity = tuple[int, int, str, str]  # start, end, label, text (task-local offsets)


@dataclass(frozen=True)
class TaskState:
    """One annotated task as a pull sees it: its annotations and the entities of the chosen one."""

    key: TaskKey
    region: str
    annotations: Mapping[str, str]  # live annotation id -> fingerprint (updated_at + result)
    entities: frozenset[Entity]


def _entities(annotation: Mapping[str, Any]) -> frozenset[Entity]:
    out = set()
    for item in annotation.get("result") or []:
        value = item.get("value") or {}
        if item.get("type") == "labels" and value.get("labels"):
            out.add((int(value["start"]), int(value["end"]), str(value["labels"][0]), str(value.get("text", ""))))
    return frozenset(out)


def snapshot(export: Sequence[Mapping[str, Any]]) -> dict[TaskKey, TaskState]:
    """The annotated tasks of an export by key (tasks without a live annotation are left out)."""
    states = {}
    for task in export:
        data = task.get("data") or {}
        chosen = choose_annotation(task.get("annotations") or [])
        if chosen is None or "doc_id" not in data:
            continue
        live = {
            str(a.get("id")): json.dumps([a.get("updated_at"), a.get("result")], sort_keys=True, ensure_ascii=False)
            for a in task.get("annotations") or []
            if not a.get("was_cancelled")
        }
        key = task_key(data)
        states[key] = TaskState(key, str(data.get("region", "")), live, _entities(chosen))
    return states


@dataclass
class PullDiff:
    """What changed between two pulls: tasks, annotations and entities added, removed, changed."""

    previous: str | None
    tasks: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})
    annotations: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})
    entities: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})

    @property
    def unchanged(self) -> bool:
        return not any(v for part in (self.tasks, self.annotations, self.entities) for v in part.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """Numbers only, e.g. ``{"entities": {"added": 3, "removed": 0, "changed": 1}, ...}``."""
        return {
            name: {k: len(v) for k, v in part.items()}
            for name, part in (("tasks", self.tasks), ("annotations", self.annotations), ("entities", self.entities))
        }

    def summary(self, details: int = 20) -> str:
        """Counts per kind, then up to ``details`` entity changes."""
        if self.previous is None:
            return f"first pull: {len(self.tasks['added'])} annotated tasks, {len(self.entities['added'])} entities"
        if self.unchanged:
            return f"since {self.previous}: no changes"
        lines = [f"since {self.previous}:"]
        for name, c in self.counts().items():
            lines.append(f"  {name:<12} +{c['added']} added, -{c['removed']} removed, ~{c['changed']} changed")
        changes = [f"    + {e}" for e in self.entities["added"]]
        changes += [f"    - {e}" for e in self.entities["removed"]]
        changes += [f"    ~ {e}" for e in self.entities["changed"]]
        lines += changes[:details]
        if len(changes) > details:
            lines.append(f"    ... {len(changes) - details} more")
        return "\n".join(lines)


def diff_pulls(
    old: Sequence[Mapping[str, Any]] | None, new: Sequence[Mapping[str, Any]], previous: str | None = None
) -> PullDiff:
    """Compare two exports (pure). Tasks: annotated tasks by key; changed = other entities.

    Annotations: live annotation ids; changed = same id, new ``updated_at`` or result.
    Entities: ``(task, start, end, label)``; changed = same task and offsets, another label.
    """
    diff = PullDiff(previous if old is not None else None)
    a, b = snapshot(old or []), snapshot(new)
    for key in sorted(b.keys() - a.keys()):
        diff.tasks["added"].append(f"{key[0]}@{key[1]}")
    for key in sorted(a.keys() - b.keys()):
        diff.tasks["removed"].append(f"{key[0]}@{key[1]}")
    for key in sorted(a.keys() & b.keys()):
        if a[key].entities != b[key].entities:
            diff.tasks["changed"].append(f"{key[0]}@{key[1]}")
    old_ann = {aid: (key, fp) for key, s in a.items() for aid, fp in s.annotations.items()}
    new_ann = {aid: (key, fp) for key, s in b.items() for aid, fp in s.annotations.items()}
    diff.annotations["added"] = sorted(
        f"{aid} ({k[0]}@{k[1]})" for aid, (k, _) in new_ann.items() if aid not in old_ann
    )
    diff.annotations["removed"] = sorted(
        f"{aid} ({k[0]}@{k[1]})" for aid, (k, _) in old_ann.items() if aid not in new_ann
    )
    diff.annotations["changed"] = sorted(
        f"{aid} ({k[0]}@{k[1]})" for aid, (k, fp) in new_ann.items() if aid in old_ann and old_ann[aid][1] != fp
    )
    for key in sorted(a.keys() | b.keys()):
        before = a[key].entities if key in a else frozenset()
        after = b[key].entities if key in b else frozenset()
        old_at = {(s, e): (label, text) for s, e, label, text in before}
        new_at = {(s, e): (label, text) for s, e, label, text in after}
        for (s, e), (label, text) in sorted(new_at.items()):
            if (s, e) not in old_at:
                diff.entities["added"].append(f"{key[0]}@{key[1]} {label} {s}-{e} {text!r}")
            elif old_at[(s, e)][0] != label:
                diff.entities["changed"].append(f"{key[0]}@{key[1]} {s}-{e} {text!r}: {old_at[(s, e)][0]} -> {label}")
        for (s, e), (label, text) in sorted(old_at.items()):
            if (s, e) not in new_at:
                diff.entities["removed"].append(f"{key[0]}@{key[1]} {label} {s}-{e} {text!r}")
    return diff


@dataclass
class PullResult:
    """What a pull wrote and found."""

    path: Path
    tasks: int  # annotated tasks written
    entities: int
    report: ExportReport
    diff: PullDiff
    archived: list[Path] = field(default_factory=list)
    standoff: list[Path] = field(default_factory=list)  # corpus-excerpt tasks, written as standoff records

    def summary(self, details: int = 10) -> str:
        """Where the gold went, the reader's report (up to ``details`` skipped tasks listed) and the diff."""
        skipped = [f"  SKIP {p}" for p in self.report.skipped[:details]]
        if len(self.report.skipped) > details:
            skipped.append(f"  ... {len(self.report.skipped) - details} more")
        return "\n".join(
            part
            for part in (
                f"wrote {self.tasks} annotated task(s), {self.entities} entities to {self.path}",
                f"{len(self.report.skipped)} task(s) without annotation skipped" + (":" if skipped else ""),
                *skipped,
                *(f"  REPAIR {p}" for p in self.report.repairs),
                *(f"earlier pull moved to {p}" for p in self.archived),
                f"wrote {len(self.standoff)} corpus-excerpt task(s) as standoff to {self.standoff[0].parent}"
                if self.standoff
                else "",
                self.diff.summary(),
            )
            if part
        )


def split_excerpts(
    annotated: Sequence[AnnotatedTask], export: Sequence[Mapping[str, Any]], standoff_dir: Path | str
) -> tuple[list[Path], set[str]]:
    """Write the annotated corpus-excerpt tasks as standoff records (``standoff_dir/<doc_id>.json``),
    so that no corpus text lands in a pull file; returns the records written and those tasks' ids."""
    data_by_id = {str(t.get("id")): t.get("data") or {} for t in export}
    written, ids = [], set()
    for task in annotated:
        excerpt = excerpt_from_data(data_by_id.get(task.task_id, {}))
        if excerpt is None:
            continue
        record = task_record(task, excerpt, "pulled from Label Studio")
        written.append(write_standoff(Path(standoff_dir) / f"{excerpt.doc_id}.json", record))
        ids.add(task.task_id)
    return written, ids


def pull(
    client: LabelStudio,
    title: str,
    folder: Path | str,
    api: ApiSettings,
    standoff_dir: Path | str | None = None,
) -> PullResult:
    """Export the project, validate it and write its annotated tasks to a new pull file.

    The file (``folder/labelstudio-<UTC timestamp>.json``, never an existing one) holds the
    annotated tasks in Label Studio's export shape, ready for ``read_export``/``build_dataset``;
    tasks without annotation are skipped and reported. Earlier pulls move to
    ``folder/history/`` (see :func:`archive_pulls`), so ``folder`` holds the latest snapshot
    only. The diff compares with the latest earlier pull. An export with errors is written to
    ``folder/invalid/`` instead and :class:`ExportValidationError` is raised.
    """
    project_id = require_project(client, title, api)
    export = export_tasks(client, project_id)
    folder = Path(folder)
    try:
        annotated, report = parse_export(export, skip_unannotated=True)
    except ExportValidationError as err:
        kept = write_new_file(new_pull_path(folder / "invalid"), export)
        err.args = (f"{err.args[0]}\n(the raw export is in {kept}; fix the annotations in Label Studio)",)
        raise
    standoff, excerpt_ids = split_excerpts(annotated, export, standoff_dir or folder / "standoff")
    annotated = [t for t in annotated if t.task_id not in excerpt_ids]
    previous = pull_files(folder)
    old = json.loads(previous[-1].read_text(encoding="utf-8")) if previous else None
    ids = {t.task_id for t in annotated}
    keep = [t for t in export if str(t.get("id")) in ids]
    path = write_new_file(new_pull_path(folder), keep)
    diff = diff_pulls(old, keep, previous[-1].name if previous else None)
    archived = archive_pulls(folder, path)
    return PullResult(path, len(keep), sum(len(t.spans) for t in annotated), report, diff, archived, standoff)
