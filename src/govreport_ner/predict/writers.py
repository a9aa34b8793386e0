"""Output records and writers: JSONL, CSV or Label Studio tasks, appended to ``<output>.partial``
per document (resume reads them back) and turned into the output when the run completes."""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from govreport_ner.extract.targets import extract_targets, targets_in_clauses
from govreport_ner.spans import Span, check_spans
from govreport_ner.text.reader import Document
from govreport_ner.text.segment import Clause

log = logging.getLogger(__name__)


FORMATS = ("jsonl", "csv", "labelstudio")


def entity_dict(span: Span) -> dict:
    """One output entity (a checked span: its ``text`` was read from the document)."""
    score = None if span.score is None else round(float(span.score), 4)
    return {"start": span.start, "end": span.end, "label": span.label, "text": span.text, "score": score}


def document_record(
    doc: Document, spans: Sequence[Span], model_version: str, clauses: Sequence[Clause] | None = None
) -> dict:
    """The JSONL output object of one document: entities and the targets of the clauses that were tagged.

    The spans are checked here, once (:func:`govreport_ner.spans.check_spans`); without
    ``clauses`` the document is segmented as :func:`~govreport_ner.extract.targets.extract_targets` does.
    """
    ordered = sorted(check_spans(doc.text, spans, doc.id))
    targets = extract_targets(doc.text, ordered) if clauses is None else targets_in_clauses(doc.text, ordered, clauses)
    return {
        "id": doc.id,
        "source": doc.source,
        "model_version": model_version,
        "entities": [entity_dict(s) for s in ordered],
        "targets": [t.to_dict() for t in targets],
    }


CSV_COLUMNS = (
    "id",
    "source",
    "model_version",
    "quantity",
    "value",
    "low",
    "high",
    "unit",
    "comparator",
    "deadline",
    "project",
    "project_label",
    "quantity_start",
    "quantity_end",
    "clause_start",
    "clause_end",
    "clause",
    "parse_error",
)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


class Writer:
    """One output format: the per-document partial line, reading an old output, the final file.

    Partial lines are JSON objects with an ``"id"``; :meth:`finish` turns the partial file
    (all lines complete) into the output.
    """

    name = "jsonl"

    def partial_line(self, doc: Document, record: dict, model_version: str, spans: Sequence[Span]) -> dict:
        return record

    def read_output(self, path: Path) -> Iterator[dict]:
        """Partial lines equivalent to an existing complete output (for resume)."""
        yield from read_complete_lines(path)

    def line_version(self, line: dict) -> str | None:
        """The model version that made a partial line (None when it does not say)."""
        return line.get("model_version")

    def finish(self, partial: Path, output: Path) -> None:
        os.replace(partial, output)


class CsvWriter(Writer):
    name = "csv"

    def partial_line(self, doc, record, model_version, spans) -> dict:
        text = doc.text
        rows = []
        for t in record["targets"]:
            q = t["quantity_span"]
            row = {
                **t,
                "id": doc.id,
                "source": doc.source,
                "model_version": model_version,
                "quantity_start": q["start"],
                "quantity_end": q["end"],
            }
            row["clause"] = text[t["clause_start"] : t["clause_end"]]
            rows.append([_csv_cell(row[c]) for c in CSV_COLUMNS])
        return {"id": doc.id, "model_version": model_version, "rows": rows}

    def line_version(self, line: dict) -> str | None:
        if line.get("model_version"):
            return line["model_version"]
        rows = line.get("rows") or []
        return rows[0][CSV_COLUMNS.index("model_version")] if rows else None

    def read_output(self, path: Path) -> Iterator[dict]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is not None and tuple(header) != CSV_COLUMNS:
                raise ValueError(f"{path}: not a predict CSV (header {header!r})")
            current: dict | None = None
            for row in reader:
                if current is not None and row[0] != current["id"]:
                    yield current
                    current = None
                if current is None:
                    current = {"id": row[0], "rows": []}
                current["rows"].append(row)
            if current is not None:
                yield current

    def finish(self, partial: Path, output: Path) -> None:
        with atomic_write(output, encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for line in read_complete_lines(partial):
                writer.writerows(line["rows"])
        partial.unlink(missing_ok=True)


class LabelStudioWriter(Writer):
    name = "labelstudio"

    def __init__(self, per: str = "document"):
        if per not in ("document", "paragraph"):
            raise ValueError(f"per must be 'document' or 'paragraph', not {per!r}")
        self.per = per

    def partial_line(self, doc, record, model_version, spans) -> dict:
        from govreport_ner.annotation.labelstudio_format import add_prediction, document_tasks

        tasks = document_tasks(doc, "", self.per, {"source": doc.source})
        return {"id": doc.id, "tasks": [add_prediction(task, spans, model_version) for task in tasks]}

    def line_version(self, line: dict) -> str | None:
        for task in line.get("tasks", []):
            for prediction in task.get("predictions", []):
                return prediction.get("model_version")
        return None

    def read_output(self, path: Path) -> Iterator[dict]:
        tasks = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(tasks, list):
            raise ValueError(f"{path}: not a Label Studio task list")
        grouped: dict[str, list] = {}
        for task in tasks:
            grouped.setdefault(str(task["data"]["doc_id"]), []).append(task)
        for doc_id, doc_tasks in grouped.items():
            yield {"id": doc_id, "tasks": doc_tasks}

    def finish(self, partial: Path, output: Path) -> None:
        with atomic_write(output) as handle:
            handle.write("[")
            first = True
            for line in read_complete_lines(partial):
                for task in line["tasks"]:
                    handle.write("\n" if first else ",\n")
                    handle.write(json.dumps(task, ensure_ascii=False))
                    first = False
            handle.write("\n]\n")
        partial.unlink(missing_ok=True)


def make_writer(fmt: str, per: str = "document") -> Writer:
    """The writer of an output format (``jsonl``, ``csv`` or ``labelstudio``)."""
    if fmt == "jsonl":
        return Writer()
    if fmt == "csv":
        return CsvWriter()
    if fmt == "labelstudio":
        return LabelStudioWriter(per)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


@contextmanager
def atomic_write(path: Path, encoding: str = "utf-8", newline: str | None = None) -> Iterator[TextIO]:
    """Write ``path`` all at once: into ``<path>.tmp``, flushed and fsync'd, then renamed over ``path``.

    A crash leaves the old file (or none), never a half-written one.
    """
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding=encoding, newline=newline) as handle:
        yield handle
        _sync(handle)
    os.replace(tmp, path)


def _sync(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def read_complete_lines(path: Path) -> Iterator[dict]:
    """JSON objects with an ``id`` from complete lines; a truncated or corrupt line is left out (logged)."""
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            if not raw.endswith(b"\n"):
                log.warning(
                    "%s: line %d is incomplete (interrupted write); its document will be predicted again", path, line_no
                )
                continue
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                log.warning("%s: line %d is not valid JSON; its document will be predicted again", path, line_no)
                continue
            if isinstance(obj, dict) and "id" in obj:
                yield obj


def partial_path(output: Path) -> Path:
    """Where records are appended while a run is in progress."""
    return output.with_name(output.name + ".partial")


class ResumeMismatchError(ValueError):
    """``resume=true`` over an output made by another model or engine."""


def done_versions(output: Path, writer: Writer) -> set[str]:
    """The model versions of the documents already in ``output`` and its ``.partial`` (for resume)."""
    partial = partial_path(output)
    versions: set[str] = set()
    sources = ([writer.read_output(output)] if output.exists() else []) + (
        [read_complete_lines(partial)] if partial.exists() else []
    )
    for source in sources:
        versions.update(v for line in source if (v := writer.line_version(line)))
    return versions


def check_resume(output: Path, writer: Writer, model_version: str) -> None:
    """Refuse to resume an output made by another model version (another checkpoint or engine)."""
    other = sorted(done_versions(output, writer) - {model_version})
    if other:
        raise ResumeMismatchError(
            f"resume=true, but {output} holds predictions of {', '.join(other)} and this run is {model_version}: "
            "resume with the same checkpoint and engine, or write to another output (resume=false replaces it)"
        )


def prepare_partial(
    output: Path, writer: Writer, resume: bool, model_version: str | None = None
) -> tuple[set[str], int]:
    """Start ``<output>.partial``: empty, or (resume) with every document already done, once.

    Returns the ids already done and how many there are. The merged file is written beside
    it and renamed, so a crash here loses nothing either. With ``model_version``, resuming
    an output of another version raises :class:`ResumeMismatchError` before anything is written.
    """
    partial = partial_path(output)
    done: set[str] = set()
    if resume and model_version is not None:
        check_resume(output, writer, model_version)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not resume:
        if output.exists():
            log.info("%s exists and will be replaced when this run completes (resume=true keeps it)", output)
        partial.write_bytes(b"")
        return done, 0
    with atomic_write(partial) as handle:
        sources = []
        if output.exists():
            sources.append(writer.read_output(output))
        if partial.exists():
            sources.append(read_complete_lines(partial))
        for source in sources:
            for line in source:
                doc_id = str(line["id"])
                if doc_id not in done:
                    done.add(doc_id)
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                    handle.flush()
    return done, len(done)
