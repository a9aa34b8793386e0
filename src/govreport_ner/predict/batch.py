"""Batch inference: reports in, entities, normalized targets or Label Studio predictions out.

The path behind ``scripts/predict.py`` (see :func:`predict_command`)::

    inputs ─▶ documents (streamed; a shard of them) ─▶ buffer of documents (bounded)
           ─▶ clauses (segment) ─▶ windows sorted by length, batched across documents
           ─▶ model (torch or ONNX Runtime, all cores) ─▶ spans (document offsets)
           ─▶ targets ─▶ one record per document appended to ``<output>.partial``
           ─▶ at the end: the final file written and renamed into place; a summary.

Guarantees:

* **Offsets.** Every entity's ``text`` is read from the document as decoded (CRLF, BOM-less
  UTF-8 or GB18030, nothing normalised), so ``text[start:end] == entity["text"]`` always.
* **Bounded memory.** Documents are read one at a time into a buffer of at most
  ``buffer_chars`` characters (and ``buffer_docs`` documents); only document ids are kept
  across buffers (for resume and for duplicate detection).
* **Nothing lost.** Records are appended to ``<output>.partial``, one complete JSON line
  per document, flushed per document and fsync'd after each buffer. The output itself only appears when the
  run completes: written to a temporary file in the same folder and renamed. With
  ``resume=true`` the documents of an existing output and the complete lines of a
  ``.partial`` left by a crash are kept and skipped; a truncated last line is dropped and
  its document predicted again.
* **Shards.** ``shard="i/n"`` keeps the documents whose id hashes to ``i`` modulo ``n``
  (BLAKE2b of the UTF-8 id): deterministic across runs, machines and input order, and the
  ``n`` shard outputs together hold every document exactly once.
* **Guards** (:func:`check_batch`, before the model loads): a missing input, an output that
  is also an input, and a ``.json``/``.jsonl``/``.ndjson`` input that is not JSON Lines are
  refused before anything is written; ``resume=true`` over an output of another model
  version (checkpoint or engine) is refused naming both; when nothing is predicted no output
  file is written (an empty file would read as "no entities").
* **Failures** (unreadable, undecodable or empty inputs, bad JSONL lines, duplicate ids)
  are collected with id and reason, printed in the summary and turned into exit code 1;
  the batch goes on.

Formats:

* ``jsonl`` (default): one object per document, ``{"id", "source", "model_version",
  "entities": [{"start", "end", "label", "text", "score"}], "targets": [Target.to_dict()]}``.
* ``csv``: one row per target (:data:`CSV_COLUMNS`), UTF-8 with a BOM so that spreadsheet
  programs read the Chinese text; documents without targets have no row.
* ``labelstudio``: a JSON list of tasks (the file Label Studio imports), each with one
  prediction carrying ``model_version``. Tasks are streamed into ``.partial`` as JSON lines
  and assembled into the list at the end.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from govreport_ner.predict.writers import _sync, document_record, make_writer, partial_path, prepare_partial
from govreport_ner.text.inputs import Failure, count_inputs, input_paths, iter_documents, parse_shard
from govreport_ner.text.reader import Document, ReportReadError, check_jsonl, is_jsonl

log = logging.getLogger(__name__)

DEFAULT_BUFFER_CHARS = 262_144
DEFAULT_BUFFER_DOCS = 256


# =========================================================================== threads


# =========================================================================== taggers


# =========================================================================== ONNX


# =========================================================================== predictors


# =========================================================================== inputs


# =========================================================================== records and writers


# =========================================================================== the batch run


class BatchSetupError(ValueError):
    """A batch that must not start: its inputs or output are wrong (found before the model loads)."""


def check_batch(inputs: str | Path | Sequence[str | Path], output: str | Path, missing_ok: bool = False) -> list[Path]:
    """The input paths, checked: each exists, none is the output, JSON Lines files are JSON Lines.

    Raises :class:`BatchSetupError` naming the path; nothing has been written then. With
    ``missing_ok`` (as :func:`run_batch` calls it) a missing input is left to be reported as
    a failure of the batch; ``predict.py`` refuses it before the model loads.
    """
    paths = input_paths(inputs)
    missing = [str(p) for p in paths if not p.exists()]
    if missing and not missing_ok:
        raise BatchSetupError(f"input not found: {', '.join(missing)}")
    out = Path(output).resolve()
    for path in paths:
        if path.resolve() == out or (path.is_dir() and out.parent == path.resolve() and is_report_name(out)):
            raise BatchSetupError(f"output {output} is also an input ({path}): choose another output")
        if path.is_file() and is_jsonl(path):
            try:
                check_jsonl(path)
            except ReportReadError as err:
                raise BatchSetupError(str(err)) from err
    return paths


def is_report_name(path: Path) -> bool:
    """Whether a file of that name in an input folder would be read as a report."""
    from govreport_ner.text.reader import REPORT_SUFFIXES

    return path.suffix.lower() in REPORT_SUFFIXES


@dataclass
class Summary:
    """What a batch run did; ``exit_code`` is 1 when any input failed."""

    output: str = ""
    format: str = "jsonl"
    model_version: str = ""
    engine: str = ""
    runner: str = "local"
    rule_labels: tuple[str, ...] = ()  # the labels the rules decide in a model+rules hybrid
    shard: str | None = None
    documents: int = 0
    resumed: int = 0
    characters: int = 0
    entities: int = 0
    targets: int = 0
    labels: Counter = field(default_factory=Counter)
    encodings: Counter = field(default_factory=Counter)
    written: bool = True
    seconds: float = 0.0
    load_seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)

    @property
    def chars_per_second(self) -> float:
        return self.characters / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def to_dict(self) -> dict:
        return {
            "output": self.output,
            "format": self.format,
            "model_version": self.model_version,
            "engine": self.engine,
            "runner": self.runner,
            "shard": self.shard,
            "documents": self.documents,
            "resumed": self.resumed,
            "characters": self.characters,
            "entities": self.entities,
            "entities_per_label": dict(sorted(self.labels.items())),
            "encodings": dict(sorted(self.encodings.items())),
            "written": self.written,
            "targets": self.targets,
            "seconds": round(self.seconds, 3),
            "load_seconds": round(self.load_seconds, 3),
            "chars_per_second": round(self.chars_per_second, 1),
            "failures": [f.to_dict() for f in self.failures],
            "exit_code": self.exit_code,
        }

    def _label_sources(self) -> str:
        """Which system decided which labels (the hybrid, or a model alone)."""
        if self.rule_labels:
            return f"; labels: {', '.join(self.rule_labels)} from the rules, the others from the model"
        if self.engine and self.engine != "rules":
            return "; labels: all from the model (rule_labels=[...] for the model+rules hybrid)"
        return ""

    def format_text(self) -> str:
        lines = [
            f"predicted {self.documents} documents ({self.characters:,} characters) with {self.model_version}"
            + f" (engine: {self.engine or '?'}; runner: {self.runner})"
            + self._label_sources()
            + (f", shard {self.shard}" if self.shard else "")
            + (f"; {self.resumed} already done (resume)" if self.resumed else ""),
            f"  {self.entities:,} entities"
            + (" (" + ", ".join(f"{k} {v:,}" for k, v in sorted(self.labels.items())) + ")" if self.labels else "")
            + f", {self.targets:,} targets",
            f"  {self.seconds:.1f} s ({self.chars_per_second:,.0f} chars/s; model loaded in {self.load_seconds:.1f} s)",
            (
                f"  output: {self.output} ({self.format})"
                if self.written
                else "  output: none written (nothing was predicted)"
            ),
            *(
                ["  encodings: " + ", ".join(f"{k} {v}" for k, v in sorted(self.encodings.items()))]
                if self.encodings
                else []
            ),
            f"  {len(self.failures)} failed" + (":" if self.failures else ""),
        ]
        lines += [f"  FAILED {f.id}: {f.reason} ({f.source})" for f in self.failures]
        return "\n".join(lines)


def _buffers(
    items: Iterable[Document | Failure], buffer_chars: int, buffer_docs: int
) -> Iterator[tuple[list[Document], list[Failure]]]:
    """Groups of documents of about ``buffer_chars`` characters (and failures met on the way)."""
    docs, failures, chars = [], [], 0
    for item in items:
        if isinstance(item, Failure):
            failures.append(item)
            continue
        docs.append(item)
        chars += len(item.text)
        if chars >= buffer_chars or len(docs) >= buffer_docs:
            yield docs, failures
            docs, failures, chars = [], [], 0
    if docs or failures:
        yield docs, failures


def _tag(predictor, texts: list[str]) -> list[tuple[list | None, list]]:
    """``(clauses, spans)`` of each document: the clauses a :class:`ClausePredictor` tagged; for a
    predictor with only ``predict_documents``, None (the targets then segment the document)."""
    if hasattr(predictor, "tag_documents"):
        return predictor.tag_documents(texts)
    return [(None, spans) for spans in predictor.predict_documents(texts)]


def _progress(total: int | None, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        unit="doc",
        desc="predict",
        disable=not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
        mininterval=0.5 if sys.stderr.isatty() else 30.0,  # a log file gets a line now and then, not thousands
    )


def run_batch(
    predictor,
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    fmt: str = "jsonl",
    resume: bool = False,
    shard: str | tuple[int, int] | None = None,
    buffer_chars: int = DEFAULT_BUFFER_CHARS,
    buffer_docs: int = DEFAULT_BUFFER_DOCS,
    per: str = "document",
    progress: bool = True,
) -> Summary:
    """Predict every document of ``inputs`` into ``output``; see the module docstring."""
    output = Path(output)
    writer = make_writer(fmt, per)
    shard_pair = parse_shard(shard)
    paths = check_batch(inputs, output, missing_ok=True)
    summary = Summary(
        output=str(output),
        format=fmt,
        model_version=predictor.model_version,
        engine=getattr(predictor, "engine", ""),
        rule_labels=tuple(getattr(predictor, "rule_labels", ())),
        shard=f"{shard_pair[0]}/{shard_pair[1]}" if shard_pair else None,
    )
    done, summary.resumed = prepare_partial(output, writer, resume, predictor.model_version)
    seen: set[str] = set(done)
    started = time.perf_counter()
    bar = _progress(count_inputs(paths, shard_pair, done), progress)
    partial = partial_path(output)
    tagger = getattr(predictor, "tagger", None)
    buffer_chars_now = 0

    refresh_every = 1.0 if sys.stderr.isatty() else 30.0
    last_refresh = started

    def show_rate(done_tokens: int = 0, all_tokens: int = 0) -> None:
        nonlocal last_refresh
        now = time.perf_counter()
        elapsed = now - started
        chars = summary.characters + (buffer_chars_now * done_tokens / all_tokens if all_tokens else 0)
        bar.set_postfix(
            chars_s=f"{chars / elapsed:,.0f}" if elapsed else "-", failed=len(summary.failures), refresh=False
        )
        if not all_tokens or now - last_refresh >= refresh_every:  # between documents, or now and then
            bar.refresh()
            last_refresh = now

    if tagger is not None and hasattr(tagger, "on_batch"):
        tagger.on_batch = show_rate  # the rate moves while a buffer is in the model
    try:
        with partial.open("a", encoding="utf-8") as handle, bar:
            for docs, failures in _buffers(iter_documents(paths, shard_pair, done), buffer_chars, buffer_docs):
                summary.failures += failures
                todo = []
                for doc in docs:
                    if doc.id in seen:
                        summary.failures.append(Failure(doc.id, doc.source, "duplicate document id (kept the first)"))
                    elif not doc.text.strip():
                        summary.failures.append(Failure(doc.id, doc.source, "empty text"))
                    else:
                        seen.add(doc.id)
                        todo.append(doc)
                buffer_chars_now = sum(len(d.text) for d in todo)
                tagged = _tag(predictor, [d.text for d in todo]) if todo else []
                for doc, (clauses, spans) in zip(todo, tagged, strict=True):
                    try:
                        record = document_record(doc, spans, predictor.model_version, clauses)
                        line = writer.partial_line(doc, record, predictor.model_version, spans)
                    except Exception as err:  # one odd document must not stop the batch: report it
                        log.exception("document %s", doc.id)
                        summary.failures.append(Failure(doc.id, doc.source, f"{type(err).__name__}: {err}"))
                        continue
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                    handle.flush()
                    summary.documents += 1
                    summary.encodings[doc.encoding] += 1
                    summary.characters += len(doc.text)
                    summary.entities += len(record["entities"])
                    summary.labels.update(e["label"] for e in record["entities"])
                    summary.targets += len(record["targets"])
                _sync(handle)  # every document of the buffer is on disk before the next one starts
                buffer_chars_now = 0
                bar.update(len(docs) + len(failures))
                show_rate()
    finally:
        if tagger is not None and hasattr(tagger, "on_batch"):
            tagger.on_batch = None
    finish_output(writer, partial, output, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def finish_output(writer, partial: Path, output: Path, summary: Summary) -> None:
    """The output written from the partial file, atomically; none when nothing was predicted."""
    if summary.documents or summary.resumed:
        writer.finish(partial, output)
    else:  # an empty output would read as "no entities": write none
        partial.unlink(missing_ok=True)
        summary.written = False


# =========================================================================== entry point
