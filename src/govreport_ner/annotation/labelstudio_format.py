"""Label Studio formats: labeling config, tasks, predictions, and a validating export reader.

Tasks carry ``data = {"text", "doc_id", "region", "offset"}`` where ``offset`` is the
task text's position in its document, so spans always map back to document offsets.
Results use ``from_name="label"`` and ``to_name="text"`` as in
``annotations/label_config.xml``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from govreport_ner.labels import LABELS
from govreport_ner.spans import Span, find_overlaps
from govreport_ner.text.reader import Document

FROM_NAME = "label"
TO_NAME = "text"
DRIFT_WINDOW = 8  # how far (in characters) a drifted span may be looked for


def config_labels(config_xml: str) -> list[str]:
    """The label values declared in a labeling config."""
    return re.findall(r'<Label\s+value="([^"]+)"', config_xml)


def result_id(span: Span, origin: str) -> str:
    """A result id unique within a task (and between manual and predicted results), the same on
    every export, so that regenerated gold files diff only where spans change."""
    return hashlib.sha1(f"{origin}:{span.start}:{span.end}:{span.label}".encode()).hexdigest()[:10]


def span_to_result(span: Span, with_score: bool = False) -> dict:
    """One Label Studio ``result`` item for a span (offsets relative to the task text)."""
    origin = "prediction" if with_score else "manual"
    item = {
        "id": result_id(span, origin),
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "type": "labels",
        "origin": origin,
        "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]},
    }
    if with_score and span.score is not None:
        item["score"] = round(float(span.score), 4)
    return item


def make_prediction(spans: Sequence[Span], model_version: str) -> dict:
    """A Label Studio prediction; its score is the mean span score (1.0 if none given)."""
    scores = [s.score for s in spans if s.score is not None]
    return {
        "model_version": model_version,
        "score": round(sum(scores) / len(scores), 4) if scores else 1.0,
        "result": [span_to_result(s, with_score=True) for s in spans],
    }


def make_task(
    text: str,
    doc_id: str,
    region: str = "",
    offset: int = 0,
    extra: dict | None = None,
) -> dict:
    """A task whose ``data`` records where its text sits in the document."""
    return {"data": {"text": text, "doc_id": doc_id, "region": region, "offset": offset, **(extra or {})}}


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of non-blank lines, the per-paragraph task unit."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^\r\n]+", text) if m.group().strip()]


def document_tasks(
    document: Document, region: str = "", per: str = "document", extra: dict | None = None
) -> list[dict]:
    """Tasks for one document: one task for the whole text, or one per paragraph."""
    if per == "document":
        return [make_task(document.text, document.id, region, 0, extra)]
    if per == "paragraph":
        return [
            make_task(document.text[s:e], document.id, region, s, {**(extra or {}), "paragraph": n})
            for n, (s, e) in enumerate(paragraphs(document.text))
        ]
    raise ValueError(f"per must be 'document' or 'paragraph', not {per!r}")


def add_prediction(task: dict, spans: Sequence[Span], model_version: str) -> dict:
    """The task with a prediction for ``spans``, whose offsets are document offsets."""
    offset = task["data"].get("offset", 0)
    text = task["data"]["text"]
    local = [s.shifted(-offset) for s in spans if offset <= s.start and s.end <= offset + len(text)]
    return {**task, "predictions": [*task.get("predictions", []), make_prediction(local, model_version)]}


def write_tasks(tasks: Iterable[dict], path: Path | str) -> int:
    """Write tasks as a Label Studio import file (a JSON list); returns how many."""
    tasks = list(tasks)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(tasks)


# ---------------------------------------------------------------- export reader


@dataclass
class Problem:
    """Something wrong (or repaired) in an export, with where it was found."""

    task: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"task {self.task} {self.where}: {self.message}" if self.task else f"{self.where}: {self.message}"


@dataclass
class ExportReport:
    """Everything the reader found: errors, repairs, and tasks left out on purpose."""

    errors: list[Problem] = field(default_factory=list)
    repairs: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """Human-readable listing of every problem, repair and skip."""
        lines = [f"{len(self.errors)} errors, {len(self.repairs)} repairs, {len(self.skipped)} tasks skipped"]
        lines += [f"ERROR  {p}" for p in self.errors]
        lines += [f"REPAIR {p}" for p in self.repairs]
        lines += [f"SKIP   {p}" for p in self.skipped]
        return "\n".join(lines)


class ExportValidationError(ValueError):
    """An export with errors; ``report`` lists every one."""

    def __init__(self, report: ExportReport):
        self.report = report
        super().__init__("invalid Label Studio export:\n" + report.summary())


@dataclass(frozen=True)
class AnnotatedTask:
    """One task's text and gold spans; ``offset`` places the text in its document."""

    task_id: str
    doc_id: str
    region: str
    text: str
    offset: int
    spans: tuple[Span, ...]
    annotation_id: str = ""
    province: str = ""

    def document_spans(self) -> list[Span]:
        """The spans in document offsets."""
        return [s.shifted(self.offset) for s in self.spans]


def choose_annotation(annotations: Sequence[dict]) -> dict | None:
    """The latest non-cancelled annotation (by ``updated_at``, then ``created_at``, then id)."""
    live = [a for a in annotations if not a.get("was_cancelled")]
    if not live:
        return None
    return max(live, key=lambda a: (a.get("updated_at") or "", a.get("created_at") or "", _id_order(a.get("id"))))


def _id_order(annotation_id) -> tuple[int, str]:
    """Sort key for annotation ids: numeric ids by value (10 after 9), others as text."""
    text = str(annotation_id if annotation_id is not None else "")
    return (int(text), "") if text.isdigit() else (-1, text)


def _repair_drift(text: str, start: int, end: int, value_text: str) -> int | None:
    """The start of ``value_text`` near ``start`` when it occurs there exactly once."""
    lo = max(0, start - DRIFT_WINDOW)
    hi = max(0, min(len(text), end + DRIFT_WINDOW + len(value_text)))
    hits = [m.start() + lo for m in re.finditer(re.escape(value_text), text[lo:hi])]
    return hits[0] if len(hits) == 1 else None


EDGE_PUNCTUATION = "，。；：、！？,.;:!?"


def _edge_problem(text: str, start: int, end: int) -> str | None:
    """Why the span ``text[start:end]`` is implausible where it stands, or None.

    Used for results without ``text``, whose offsets cannot be checked against it: the span
    must not begin or end with whitespace or sentence punctuation, cross a line, or cut a number.
    """
    piece = text[start:end]
    before, after = text[start - 1 : start], text[end : end + 1]
    if piece != piece.strip():
        return "begins or ends with whitespace"
    if "\n" in piece or "\r" in piece:
        return "crosses a line break"
    if piece[0] in EDGE_PUNCTUATION or piece[-1] in EDGE_PUNCTUATION:
        return "begins or ends with punctuation"
    if (
        (before.isdigit() or before == ".")
        and piece[0].isdigit()
        or piece[-1].isdigit()
        and (after.isdigit() or after == ".")
    ):
        return "cuts a number"
    return None


def _neighbourhood(text: str, start: int, end: int, width: int = 6) -> str:
    """The span in its context, marked: ``…完成新造林[1万]亩，优良…``."""
    return f"…{text[max(0, start - width) : start]}[{text[start:end]}]{text[end : end + width]}…"


def _read_result(item: dict, text: str, task: str, report: ExportReport) -> Span | None:
    """One result item as a validated span, or None (with the problem reported)."""
    if item.get("type") != "labels":
        return None  # relations, ratings and other controls are not entities
    value = item.get("value", {})
    where = f"result {item.get('id', '?')}"
    labels = value.get("labels") or []
    if len(labels) != 1 or labels[0] not in LABELS:
        report.errors.append(Problem(task, where, f"unknown or missing label {labels!r}"))
        return None
    try:
        start, end = int(value["start"]), int(value["end"])
    except (KeyError, TypeError, ValueError):
        report.errors.append(Problem(task, where, "missing or non-integer start/end"))
        return None
    inside = 0 <= start < end <= len(text)
    value_text = value.get("text")
    if value_text is None and inside:  # nothing to check the offsets against but their neighbourhood
        where_it_is = _neighbourhood(text, start, end)
        if problem := _edge_problem(text, start, end):
            report.errors.append(
                Problem(task, where, f"{labels[0]} {start}-{end} has no 'text' and {problem}: {where_it_is}")
            )
            return None
        report.repairs.append(
            Problem(task, where, f"{labels[0]} {start}-{end} has no 'text': took {where_it_is} from the offsets")
        )
        return Span(start, end, labels[0], text[start:end])
    if inside and text[start:end] == value_text:
        return Span(start, end, labels[0], value_text)
    fixed = _repair_drift(text, start, end, value_text) if value_text else None
    if fixed is None:
        report.errors.append(
            Problem(
                task,
                where,
                f"{labels[0]} {start}-{end}: text {value_text!r} does not match "
                f"{text[max(0, start) : max(0, end)]!r} and is not found unambiguously nearby",
            )
        )
        return None
    report.repairs.append(
        Problem(
            task, where, f"{labels[0]} {value_text!r} moved from {start}-{end} to {fixed}-{fixed + len(value_text)}"
        )
    )
    return Span(fixed, fixed + len(value_text), labels[0], value_text)


def _read_task(task: dict, report: ExportReport, skip_unannotated: bool) -> AnnotatedTask | None:
    """One exported task, validated; None when it has errors or no annotation."""
    data = task.get("data", {})
    task_id = str(task.get("id", data.get("doc_id", "?")))
    text = data.get("text")
    if not isinstance(text, str):
        report.errors.append(Problem(task_id, "data", "no 'text' in task data"))
        return None
    annotation = choose_annotation(task.get("annotations") or [])
    if annotation is None:
        problem = Problem(task_id, "annotations", "no annotation (none, or all cancelled)")
        (report.skipped if skip_unannotated else report.errors).append(problem)
        return None
    n_errors = len(report.errors)
    spans = [s for item in annotation.get("result", []) if (s := _read_result(item, text, task_id, report))]
    unique = sorted(set(spans))
    for a, b in find_overlaps(unique):
        report.errors.append(
            Problem(
                task_id,
                "spans",
                f"overlap: {a.label} {a.text!r} {a.start}-{a.end} and {b.label} {b.text!r} {b.start}-{b.end}",
            )
        )
    if len(report.errors) > n_errors:
        return None
    return AnnotatedTask(
        task_id=task_id,
        doc_id=str(data.get("doc_id", task_id)),
        region=str(data.get("region", "")),
        text=text,
        offset=int(data.get("offset", 0)),
        spans=tuple(unique),
        annotation_id=str(annotation.get("id", "")),
        province=str(data.get("province", "")),
    )


def parse_export(tasks: Sequence[dict], skip_unannotated: bool = False) -> tuple[list[AnnotatedTask], ExportReport]:
    """Validate exported tasks; raises :class:`ExportValidationError` listing every error."""
    if not isinstance(tasks, list):
        raise ExportValidationError(ExportReport(errors=[Problem("-", "file", "expected a JSON list of tasks")]))
    report = ExportReport()
    annotated = [t for task in tasks if (t := _read_task(task, report, skip_unannotated))]
    seen: dict[tuple[str, int], str] = {}
    for task in annotated:
        key = (task.doc_id, task.offset)
        if key in seen:
            report.errors.append(
                Problem(
                    task.task_id,
                    "data",
                    f"duplicate of task {seen[key]}: same doc_id "
                    f"{task.doc_id!r} and offset {task.offset} (the same export read twice?)",
                )
            )
        seen.setdefault(key, task.task_id)
    if report.errors:
        raise ExportValidationError(report)
    return annotated, report


def read_export(
    paths: Path | str | Sequence[Path | str], skip_unannotated: bool = False
) -> tuple[list[AnnotatedTask], ExportReport]:
    """Read one or more Label Studio JSON exports (files, or folders of ``*.json``)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"no Label Studio export (*.json) in {', '.join(map(str, paths))}")
    tasks = []
    for file in files:
        tasks += _load_export_file(file)
    return parse_export(tasks, skip_unannotated)


def _load_export_file(file: Path) -> list:
    """The JSON list of one export file; a truncated or invalid file is an error naming it and the position."""
    try:
        tasks = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        where = f"{file}: line {err.lineno}, column {err.colno} (character {err.pos} of {len(err.doc)})"
        truncated = " (the file ends early: truncated?)" if err.pos >= len(err.doc.rstrip()) else ""
        raise ExportValidationError(
            ExportReport(errors=[Problem("", where, f"invalid JSON: {err.msg}{truncated}")])
        ) from err
    except UnicodeDecodeError as err:
        raise ExportValidationError(
            ExportReport(
                errors=[Problem("", f"{file}: byte {err.start}", "not UTF-8 (Label Studio exports are UTF-8)")]
            )
        ) from err
    if not isinstance(tasks, list):
        raise ExportValidationError(ExportReport(errors=[Problem("", str(file), "expected a JSON list of tasks")]))
    return tasks


def to_export_task(task: AnnotatedTask, annotation_id: int = 1) -> dict:
    """An annotated task in Label Studio's export shape (used for gold files and round trips)."""
    data = {"text": task.text, "doc_id": task.doc_id, "region": task.region, "offset": task.offset}
    if task.province:
        data["province"] = task.province
    return {
        "id": task.task_id,
        "data": data,
        "annotations": [
            {
                "id": annotation_id,
                "was_cancelled": False,
                "result": [span_to_result(s) for s in task.spans],
            }
        ],
    }
