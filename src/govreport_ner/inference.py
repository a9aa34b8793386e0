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

import csv
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import rules
from .alignment import CharAligner
from .modeling import ALIGNMENT_FILE
from .reader import Document, ReportReadError, is_jsonl, list_report_files, read_report
from .segment import DEFAULT_MAX_CHARS, segment
from .spans import Span
from .tagger import DEFAULT_BATCH_SIZE, DEFAULT_MAX_TOKENS, Tagger, batch_windows
from .targets import extract_targets

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "labelstudio")
ENGINES = ("torch", "onnx")
RULES = "rules"
DEFAULT_BUFFER_CHARS = 262_144
DEFAULT_BUFFER_DOCS = 256
ONNX_SUBDIR = "onnx"


# =========================================================================== threads


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def configure_threads(num_threads: int | None = None) -> int:
    """Set torch's intra-op threads (default: all available cores); returns the number used."""
    n = int(num_threads) if num_threads else available_cores()
    torch.set_num_threads(n)
    return n


# =========================================================================== taggers


class OnnxTagger(Tagger):
    """The same tagging logic with the model run by an ONNX Runtime session."""

    def __init__(self, session, tokenizer, aligner: CharAligner, model_version: str):
        # Tagger.__init__ would want a torch model; an ONNX tagger has none.
        self.model = None
        self.tokenizer, self.aligner, self.model_version = tokenizer, aligner, model_version
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.session = session
        self._input_names = {i.name for i in session.get_inputs()}

    def _logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask}
        return self.session.run(["logits"], {k: v for k, v in feed.items() if k in self._input_names})[0]


# =========================================================================== ONNX


def checkpoint_model_dir(checkpoint: Path | str) -> Path:
    """The folder holding ``config.json``: the checkpoint itself or its ``model/`` folder."""
    directory = Path(checkpoint)
    return directory / "model" if (directory / "model" / "config.json").exists() else directory


def _fingerprint(model_dir: Path) -> dict:
    """What an exported ONNX file was made from (weights' size and mtime, library versions)."""
    import onnxruntime

    weights = sorted(p for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin"))
    return {
        "weights": [[p.name, p.stat().st_size, int(p.stat().st_mtime)] for p in weights],
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def _dummy_batch(tokenizer, aligner):
    """A padded two-row batch for tracing and checking the export."""
    ids = aligner.encode("到2025年新建学校12所，完成投资3.5亿元。").ids[:16]
    rows = [[aligner.first_id, *ids, aligner.last_id], [aligner.first_id, *ids[:5], aligner.last_id]]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    width = max(map(len, rows))
    input_ids = torch.full((2, width), pad, dtype=torch.long)
    mask = torch.zeros((2, width), dtype=torch.long)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = torch.tensor(row)
        mask[r, : len(row)] = 1
    return input_ids, mask


def export_onnx(model, tokenizer, aligner, path: Path, opset: int = 17) -> Path:
    """Export a token classifier to ONNX with dynamic batch and sequence axes (checked against torch)."""
    import onnxruntime as ort

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    input_ids, mask = _dummy_batch(tokenizer, aligner)
    axes = {"batch": 0, "sequence": 1}
    dynamic = {name: {v: k for k, v in axes.items()} for name in ("input_ids", "attention_mask", "logits")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(),
            (input_ids, mask),
            str(tmp),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
    # Check on a different shape than the traced one, with padding: nothing may be baked in.
    check_ids = torch.cat([input_ids, input_ids[:1]], 0)[:, :-1].contiguous()
    check_mask = torch.cat([mask, mask[:1]], 0)[:, :-1].contiguous()
    with torch.inference_mode():
        expected = model(input_ids=check_ids, attention_mask=check_mask).logits.numpy()
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"input_ids": check_ids.numpy(), "attention_mask": check_mask.numpy()})[0]
    valid = check_mask.numpy().astype(bool)
    diff = float(np.abs(expected - got)[valid].max())
    if diff > 1e-3:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ONNX export differs from torch by {diff:.2e} (max |logit difference|)")
    os.replace(tmp, path)
    return path


class _QuietRoot(logging.Filter):
    """Drops the root-logger notes ONNX Runtime's quantizer prints (pre-processing advice)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


def quantize_onnx(fp32_path: Path, int8_path: Path) -> Path:
    """Dynamic int8 quantization of the MatMul weights, per output channel.

    Weights are stored as int8; activations are quantized per batch at run time. The
    quantizer's shape pre-processing was tried and neither sped up nor changed the result.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = int8_path.with_name(int8_path.name + ".tmp")
    quiet, root = _QuietRoot(), logging.getLogger()
    root.addFilter(quiet)
    try:
        quantize_dynamic(
            str(fp32_path), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True
        )
    finally:
        root.removeFilter(quiet)
    os.replace(tmp, int8_path)
    return int8_path


def _writable_dir(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


@dataclass(frozen=True)
class OnnxCache:
    """The ONNX files of one checkpoint: fp32 export, int8 version, and what they were made from."""

    directory: Path
    fingerprint: dict

    @property
    def fp32(self) -> Path:
        return self.directory / "model.onnx"

    @property
    def int8(self) -> Path:
        return self.directory / "model.int8.onnx"

    @property
    def meta(self) -> Path:
        return self.directory / "export.json"

    def fresh(self, quantize: bool = False) -> bool:
        """True when the files needed are there and were made from the current weights."""
        if not (self.meta.exists() and self.fp32.exists()) or (quantize and not self.int8.exists()):
            return False
        return json.loads(self.meta.read_text(encoding="utf-8")) == self.fingerprint


def onnx_cache(checkpoint: Path | str, onnx_dir: Path | str | None = None) -> OnnxCache:
    """Where a checkpoint's ONNX files live: ``onnx_dir``, else ``<model folder>/onnx``.

    When the checkpoint folder is not writable or has no write permission bit (a shared
    model), a folder in the system's temporary directory named after the checkpoint's path
    is used instead.
    """
    model_dir = checkpoint_model_dir(checkpoint)
    directory = Path(onnx_dir) if onnx_dir else model_dir / ONNX_SUBDIR
    read_only = not model_dir.stat().st_mode & 0o222  # no write bit: respected even by root
    if not onnx_dir and (read_only or not _writable_dir(directory)):
        digest = hashlib.sha1(str(model_dir.resolve()).encode("utf-8")).hexdigest()[:12]
        directory = Path(tempfile.gettempdir()) / "govreport-ner-onnx" / f"{model_dir.name}-{digest}"
        log.warning("%s is not writable: caching the ONNX export in %s", model_dir, directory)
    return OnnxCache(directory, _fingerprint(model_dir))


def onnx_model_path(
    checkpoint: Path | str, quantize: bool = False, onnx_dir: Path | str | None = None, tagger=None
) -> Path:
    """The cached ONNX file of a checkpoint, exported (and quantized) when missing or stale.

    ``tagger`` (a torch :class:`Tagger` of the checkpoint) is needed only when the export
    has to be made; ``export.json`` in the cache records what the files were made from,
    so a retrained checkpoint is exported again.
    """
    cache = onnx_cache(checkpoint, onnx_dir)
    if not cache.fresh(quantize=False):
        if tagger is None:
            tagger = Tagger.from_checkpoint(checkpoint)
        cache.directory.mkdir(parents=True, exist_ok=True)
        for stale in (cache.fp32, cache.int8, cache.meta):
            stale.unlink(missing_ok=True)
        log.info("exporting %s to ONNX: %s", checkpoint, cache.fp32)
        export_onnx(tagger.model, tagger.tokenizer, tagger.aligner, cache.fp32)
        cache.meta.write_text(json.dumps(cache.fingerprint, indent=2), encoding="utf-8")
    if not quantize:
        return cache.fp32
    if not cache.int8.exists():
        log.info("quantizing %s to int8: %s", cache.fp32, cache.int8)
        quantize_onnx(cache.fp32, cache.int8)
    return cache.int8


def onnx_session(path: Path | str, num_threads: int | None = None):
    """An ONNX Runtime CPU session with all graph optimizations and ``num_threads`` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(num_threads) if num_threads else available_cores()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# =========================================================================== predictors


class RulePredictor:
    """The rule pre-annotator behind the same interface as a model."""

    model_version = rules.MODEL_VERSION

    def __init__(self, max_chars: int | None = DEFAULT_MAX_CHARS):
        self.max_chars = max_chars

    def predict_spans(self, text: str) -> list[Span]:
        """Rule spans of one document (document offsets), clauses cut at ``max_chars`` as for a model."""
        return rules.tag_text(text, self.max_chars)

    def predict_documents(self, texts: Sequence[str]) -> list[list[Span]]:
        """Rule spans of several documents."""
        return [self.predict_spans(t) for t in texts]


class ModelPredictor:
    """A tagger applied to whole documents: clauses of many documents batched together."""

    def __init__(
        self,
        tagger,
        max_chars: int | None = DEFAULT_MAX_CHARS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        rule_labels: Sequence[str] = (),
    ):
        self.tagger = tagger
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.rule_labels = tuple(rule_labels)
        suffix = f"+rules({','.join(self.rule_labels)})" if self.rule_labels else ""
        self.model_version = tagger.model_version + suffix

    def predict_spans(self, text: str) -> list[Span]:
        """Spans of one document (document offsets, with scores)."""
        return self.predict_documents([text])[0]

    def predict_documents(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans of several documents; their clauses are sorted and batched together."""
        per_doc = [segment(text, self.max_chars) for text in texts]
        flat = [clause.text for clauses in per_doc for clause in clauses]
        predicted = self.tagger.predict_clauses(flat, self.batch_size)
        if self.rule_labels:  # the model+rules hybrid: rules decide these labels
            predicted = [
                rules.merge_with_rules(t, spans, self.rule_labels) for t, spans in zip(flat, predicted, strict=True)
            ]
        predicted = iter(predicted)
        return [[s.shifted(c.start) for c in clauses for s in next(predicted)] for clauses in per_doc]


@dataclass
class _TokenizerOnly:
    tokenizer: object
    aligner: CharAligner
    model_version: str


def _tokenizer_only(checkpoint: Path | str) -> _TokenizerOnly:
    """Tokenizer, aligner and version of a checkpoint without its torch weights (as Tagger.from_checkpoint)."""
    from transformers import AutoTokenizer

    model_dir = checkpoint_model_dir(checkpoint)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    settings_file = model_dir / ALIGNMENT_FILE
    settings = json.loads(settings_file.read_text(encoding="utf-8")) if settings_file.exists() else {}
    aligner = CharAligner(
        tokenizer,
        one_token_per_char=settings.get("one_token_per_char", False),
        max_length=settings.get("max_length", 256),
        stride=settings.get("stride", 32),
    )
    return _TokenizerOnly(tokenizer, aligner, settings.get("model_version", Path(checkpoint).name))


def load_predictor(
    checkpoint: Path | str,
    engine: str = "torch",
    quantize: bool = False,
    onnx_dir: Path | str | None = None,
    num_threads: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    rule_labels: Sequence[str] = (),
):
    """A predictor with ``.predict_spans(text)``, ``.predict_documents(texts)`` and ``.model_version``.

    ``rule_labels`` (e.g. QUANTITY, UNIT, DEADLINE) makes a model+rules hybrid: the rule
    pre-annotator decides those labels, the model the others.

    ``checkpoint`` is a training ``output_dir`` (or its ``model/`` folder), or ``"rules"``
    for the rule pre-annotator. ``engine="onnx"`` runs the model with ONNX Runtime
    (exported once into a cache, see :func:`onnx_model_path`); ``quantize=True`` uses its
    dynamic int8 version. Torch (and ONNX Runtime) use ``num_threads`` threads, default all
    cores.
    """
    if str(checkpoint) == RULES:
        return RulePredictor(max_chars)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if quantize and engine != "onnx":
        raise ValueError("quantize=true needs engine=onnx (dynamic int8 quantization is done by ONNX Runtime)")
    threads = configure_threads(num_threads)
    if engine == "onnx":
        cached = onnx_cache(checkpoint, onnx_dir).fresh(quantize)
        base = _tokenizer_only(checkpoint) if cached else Tagger.from_checkpoint(checkpoint)
        path = onnx_model_path(checkpoint, quantize, onnx_dir, tagger=None if cached else base)
        version = f"{base.model_version}+onnx{'-int8' if quantize else ''}"
        tagger = OnnxTagger(onnx_session(path, threads), base.tokenizer, base.aligner, version)
    else:
        tagger = Tagger.from_checkpoint(checkpoint)
    tagger.max_tokens = max_tokens
    return ModelPredictor(tagger, max_chars, batch_size, rule_labels)


# =========================================================================== inputs


@dataclass(frozen=True)
class Failure:
    """An input that could not be processed: document (or file) id, where, and why."""

    id: str
    source: str
    reason: str

    def to_dict(self) -> dict:
        return {"id": self.id, "source": self.source, "reason": self.reason}


def parse_shard(shard: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``"i/n"`` (or ``(i, n)``) as a pair, checked; ``None`` for no sharding."""
    if shard is None or shard == "" or str(shard).lower() in ("null", "none"):
        return None
    try:
        i, n = (int(x) for x in (str(shard).split("/") if isinstance(shard, str) else shard))
    except (ValueError, TypeError) as err:
        raise ValueError(f"shard must look like 'i/n' (e.g. 0/4), not {shard!r}") from err
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"shard {i}/{n}: need 0 <= i < n")
    return i, n


def shard_of(doc_id: str, n: int) -> int:
    """The shard (0..n-1) of a document id: BLAKE2b of its UTF-8 bytes, modulo ``n``."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


def in_shard(doc_id: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``doc_id`` belongs to ``shard`` (always True without sharding)."""
    return shard is None or shard_of(doc_id, shard[1]) == shard[0]


def _failure_from_error(err: ReportReadError) -> Failure:
    return Failure(Path(err.path).stem, err.path, err.reason)


def iter_jsonl(path: Path) -> Iterator[Document | Failure]:
    """Documents of a JSONL file of ``{"id", "text"}`` objects; a bad line is a Failure, not the end.

    Like :func:`govreport_ner.reader.iter_jsonl_documents` (same ids: ``id`` or
    ``<stem>-<line>``), but every line is read on its own, so one bad line does not stop
    the rest of the file.
    """
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            fallback_id, source = f"{path.stem}-{line_no}", f"{path}:{line_no}"
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as err:
                yield Failure(fallback_id, source, f"invalid UTF-8 at byte {err.start}")
                continue
            except json.JSONDecodeError as err:
                yield Failure(fallback_id, source, f"invalid JSON ({err.msg})")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                doc_id = str(record.get("id", fallback_id)) if isinstance(record, dict) else fallback_id
                yield Failure(doc_id, source, "expected an object with a string 'text'")
                continue
            yield Document(str(record.get("id", fallback_id)), record["text"], source)


def input_paths(inputs: str | Path | Sequence[str | Path]) -> list[Path]:
    """The input paths of a config value: one path or a list of them."""
    if isinstance(inputs, (str, Path)):
        return [Path(inputs)]
    return [Path(p) for p in inputs]


def count_inputs(paths: Sequence[Path], shard: tuple[int, int] | None, skip: set[str]) -> int | None:
    """How many documents will be read (for the progress bar); None when a JSONL file is among the inputs."""
    total = 0
    for path in paths:
        if path.is_file() and is_jsonl(path):
            return None
        if path.is_dir():
            try:
                files = list_report_files(path)
            except ReportReadError:
                continue
            total += sum(1 for f in files if in_shard(f.stem, shard) and f.stem not in skip)
        elif in_shard(path.stem, shard) and path.stem not in skip:
            total += 1
    return total


def iter_documents(
    paths: Sequence[Path], shard: tuple[int, int] | None = None, skip: set[str] | frozenset = frozenset()
) -> Iterator[Document | Failure]:
    """Documents of the inputs in order, restricted to a shard, without the ids in ``skip``.

    Report files are assigned to shards (and skipped) by their stem *before* being read.
    Only the first occurrence of a skipped id is skipped: a later one is a duplicate and is
    yielded, so that it is reported as on the first run. A missing input or a folder
    without reports is a Failure of every shard.
    """
    skipped: set[str] = set()

    def wanted(doc_id: str) -> bool:
        if not in_shard(doc_id, shard):
            return False
        if doc_id in skip and doc_id not in skipped:
            skipped.add(doc_id)
            return False
        return True

    for path in paths:
        if path.is_file() and is_jsonl(path):
            yield from (item for item in iter_jsonl(path) if wanted(item.id))
            continue
        if path.is_dir():
            try:
                files = list_report_files(path)
            except ReportReadError as err:
                yield Failure(path.name, str(path), err.reason)
                continue
        elif path.exists():
            files = [path]
        else:
            yield Failure(path.stem, str(path), "no such file or directory")
            continue
        for file in files:
            if not wanted(file.stem):
                continue
            try:
                yield read_report(file)
            except ReportReadError as err:
                yield _failure_from_error(err)
            except OSError as err:
                yield Failure(file.stem, str(file), f"cannot read: {err.strerror or err}")


# =========================================================================== records and writers


def entity_dict(text: str, span: Span) -> dict:
    """One output entity; its ``text`` is read from the document (and checked against the span)."""
    surface = text[span.start : span.end]
    if not (0 <= span.start < span.end <= len(text)) or (span.text and span.text != surface):
        raise AssertionError(f"span {span.start}-{span.end} {span.label} {span.text!r} does not match the document")
    score = None if span.score is None else round(float(span.score), 4)
    return {"start": span.start, "end": span.end, "label": span.label, "text": surface, "score": score}


def document_record(doc: Document, spans: Sequence[Span], model_version: str) -> dict:
    """The JSONL output object of one document: entities and targets."""
    ordered = sorted(spans)
    return {
        "id": doc.id,
        "source": doc.source,
        "model_version": model_version,
        "entities": [entity_dict(doc.text, s) for s in ordered],
        "targets": [t.to_dict() for t in extract_targets(doc.text, ordered)],
    }


CSV_COLUMNS = (
    "id",
    "source",
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

    def finish(self, partial: Path, output: Path) -> None:
        os.replace(partial, output)


class CsvWriter(Writer):
    name = "csv"

    def partial_line(self, doc, record, model_version, spans) -> dict:
        text = doc.text
        rows = []
        for t in record["targets"]:
            q = t["quantity_span"]
            row = {**t, "id": doc.id, "source": doc.source, "quantity_start": q["start"], "quantity_end": q["end"]}
            row["clause"] = text[t["clause_start"] : t["clause_end"]]
            rows.append([_csv_cell(row[c]) for c in CSV_COLUMNS])
        return {"id": doc.id, "rows": rows}

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
        tmp = output.with_name(output.name + ".tmp")
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for line in read_complete_lines(partial):
                writer.writerows(line["rows"])
            _sync(handle)
        os.replace(tmp, output)
        partial.unlink(missing_ok=True)


class LabelStudioWriter(Writer):
    name = "labelstudio"

    def __init__(self, per: str = "document"):
        if per not in ("document", "paragraph"):
            raise ValueError(f"per must be 'document' or 'paragraph', not {per!r}")
        self.per = per

    def partial_line(self, doc, record, model_version, spans) -> dict:
        from .labelstudio_format import add_prediction, document_tasks

        tasks = document_tasks(doc, "", self.per, {"source": doc.source})
        return {"id": doc.id, "tasks": [add_prediction(task, spans, model_version) for task in tasks]}

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
        tmp = output.with_name(output.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write("[")
            first = True
            for line in read_complete_lines(partial):
                for task in line["tasks"]:
                    handle.write("\n" if first else ",\n")
                    handle.write(json.dumps(task, ensure_ascii=False))
                    first = False
            handle.write("\n]\n")
            _sync(handle)
        os.replace(tmp, output)
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


def prepare_partial(output: Path, writer: Writer, resume: bool) -> tuple[set[str], int]:
    """Start ``<output>.partial``: empty, or (resume) with every document already done, once.

    Returns the ids already done and how many there are. The merged file is written beside
    it and renamed, so a crash here loses nothing either.
    """
    partial = partial_path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    done: set[str] = set()
    if not resume:
        if output.exists():
            log.info("%s exists and will be replaced when this run completes (resume=true keeps it)", output)
        partial.write_bytes(b"")
        return done, 0
    tmp = output.with_name(output.name + ".partial.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
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
        _sync(handle)
    os.replace(tmp, partial)
    return done, len(done)


# =========================================================================== the batch run


@dataclass
class Summary:
    """What a batch run did; ``exit_code`` is 1 when any input failed."""

    output: str = ""
    format: str = "jsonl"
    model_version: str = ""
    shard: str | None = None
    documents: int = 0
    resumed: int = 0
    characters: int = 0
    entities: int = 0
    targets: int = 0
    labels: Counter = field(default_factory=Counter)
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
            "shard": self.shard,
            "documents": self.documents,
            "resumed": self.resumed,
            "characters": self.characters,
            "entities": self.entities,
            "entities_per_label": dict(sorted(self.labels.items())),
            "targets": self.targets,
            "seconds": round(self.seconds, 3),
            "load_seconds": round(self.load_seconds, 3),
            "chars_per_second": round(self.chars_per_second, 1),
            "failures": [f.to_dict() for f in self.failures],
            "exit_code": self.exit_code,
        }

    def format_text(self) -> str:
        lines = [
            f"predicted {self.documents} documents ({self.characters:,} characters) with {self.model_version}"
            + (f", shard {self.shard}" if self.shard else "")
            + (f"; {self.resumed} already done (resume)" if self.resumed else ""),
            f"  {self.entities:,} entities"
            + (" (" + ", ".join(f"{k} {v:,}" for k, v in sorted(self.labels.items())) + ")" if self.labels else "")
            + f", {self.targets:,} targets",
            f"  {self.seconds:.1f} s ({self.chars_per_second:,.0f} chars/s; model loaded in {self.load_seconds:.1f} s)",
            f"  output: {self.output} ({self.format})",
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
    summary = Summary(
        output=str(output),
        format=fmt,
        model_version=predictor.model_version,
        shard=f"{shard_pair[0]}/{shard_pair[1]}" if shard_pair else None,
    )
    done, summary.resumed = prepare_partial(output, writer, resume)
    paths = input_paths(inputs)
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
                predicted = predictor.predict_documents([d.text for d in todo]) if todo else []
                for doc, spans in zip(todo, predicted, strict=True):
                    try:
                        record = document_record(doc, spans, predictor.model_version)
                        line = writer.partial_line(doc, record, predictor.model_version, spans)
                    except Exception as err:  # one odd document must not stop the batch: report it
                        log.exception("document %s", doc.id)
                        summary.failures.append(Failure(doc.id, doc.source, f"{type(err).__name__}: {err}"))
                        continue
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                    handle.flush()
                    summary.documents += 1
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
    writer.finish(partial, output)
    summary.seconds = time.perf_counter() - started
    return summary


# =========================================================================== entry point


def predict_command(cfg) -> int:
    """``scripts/predict.py``: load the predictor, run the batch, print the summary; returns the exit code."""
    make_writer(cfg.get("format", "jsonl"), cfg.get("per", "document"))  # a bad setting fails before the model loads
    parse_shard(cfg.get("shard"))
    if cfg.get("engine", "torch") not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {cfg.engine!r}")
    started = time.perf_counter()
    predictor = load_predictor(
        str(cfg.checkpoint),
        engine=cfg.get("engine", "torch"),
        quantize=bool(cfg.get("quantize", False)),
        onnx_dir=cfg.get("onnx_dir"),
        num_threads=cfg.get("num_threads"),
        batch_size=int(cfg.get("batch_size", DEFAULT_BATCH_SIZE)),
        max_tokens=int(cfg.get("max_tokens", DEFAULT_MAX_TOKENS)),
        max_chars=cfg.get("max_chars", DEFAULT_MAX_CHARS),
        rule_labels=list(cfg.get("rule_labels") or []),
    )
    load_seconds = time.perf_counter() - started
    inputs = cfg.inputs
    if not isinstance(inputs, (str, Path)):
        inputs = [str(p) for p in inputs]
    summary = run_batch(
        predictor,
        inputs,
        cfg.output,
        fmt=cfg.get("format", "jsonl"),
        resume=bool(cfg.get("resume", False)),
        shard=cfg.get("shard"),
        buffer_chars=int(cfg.get("buffer_chars", DEFAULT_BUFFER_CHARS)),
        buffer_docs=int(cfg.get("buffer_docs", DEFAULT_BUFFER_DOCS)),
        per=cfg.get("per", "document"),
        progress=bool(cfg.get("progress", True)),
    )
    summary.load_seconds = load_seconds
    print(summary.format_text(), flush=True)
    if cfg.get("summary_file"):
        path = Path(cfg.summary_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return summary.exit_code


__all__ = [
    "CSV_COLUMNS",
    "Failure",
    "ModelPredictor",
    "RulePredictor",
    "Summary",
    "batch_windows",
    "configure_threads",
    "document_record",
    "export_onnx",
    "iter_documents",
    "load_predictor",
    "onnx_model_path",
    "parse_shard",
    "predict_command",
    "quantize_onnx",
    "run_batch",
    "shard_of",
    "OnnxTagger",
]
