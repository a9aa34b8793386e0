"""The ONNX Runtime engine: export a checkpoint to ONNX (checked against torch), quantize it to int8,
cache the files beside the checkpoint (or in a temporary folder), and tag with an ONNX session.

The graph's inputs are ``input_ids`` and ``attention_mask``, and ``word_tags`` for a model with
the word-boundary feature (:mod:`govreport_ner.model.word_embedding`); the tagger feeds the
inputs its session has."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from govreport_ner.model.alignment import CharAligner, Window
from govreport_ner.model.crf import CrfScores
from govreport_ner.model.modeling import ALIGNMENT_FILE, checkpoint_model_dir
from govreport_ner.model.tagger import Tagger, pad_windows
from govreport_ner.model.threads import available_cores
from govreport_ner.model.word_boundaries import SPECIAL, clause_token_tags
from govreport_ner.model.word_embedding import WordBoundaryModel

log = logging.getLogger(__name__)


ONNX_SUBDIR = "onnx"


class OnnxTagger(Tagger):
    """The same tagging logic with the model run by an ONNX Runtime session."""

    def __init__(self, session, tokenizer, aligner: CharAligner, model_version: str, crf: CrfScores | None = None):
        # Tagger.__init__ would want a torch model; an ONNX tagger has none.
        self.model, self.crf = None, crf
        self.tokenizer, self.aligner, self.model_version = tokenizer, aligner, model_version
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.session = session
        self._input_names = {i.name for i in session.get_inputs()}
        self.word_boundaries = "word_tags" in self._input_names

    def _logits(self, inputs) -> np.ndarray:
        return self.session.run(["logits"], {k: v for k, v in inputs.items() if k in self._input_names})[0]


def _fingerprint(model_dir: Path) -> dict:
    """What an exported ONNX file was made from (weights' size and mtime, library versions)."""
    import onnxruntime

    weights = sorted(p for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin"))
    return {
        "weights": [[p.name, p.stat().st_size, int(p.stat().st_mtime)] for p in weights],
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def _dummy_batch(tokenizer, aligner, word_boundaries: bool = False) -> dict[str, torch.Tensor]:
    """A padded two-row batch for tracing and checking the export (with word tags when the model takes them)."""
    text = "到2025年新建学校12所，完成投资3.5亿元。"
    encoding = aligner.encode(text)
    ids = encoding.ids[:16]
    tags = clause_token_tags(text, encoding.spans)[:16] if word_boundaries else []
    windows = [
        Window(0, n, [aligner.first_id, *ids[:n], aligner.last_id], word_tags=[SPECIAL, *tags[:n], SPECIAL])
        for n in (len(ids), 5)
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return {name: torch.from_numpy(array) for name, array in pad_windows(windows, pad, word_boundaries).items()}


def export_onnx(model, tokenizer, aligner, path: Path, opset: int = 17) -> Path:
    """Export a token classifier to ONNX with dynamic batch and sequence axes (checked against torch)."""
    import onnxruntime as ort

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    batch = _dummy_batch(tokenizer, aligner, isinstance(model, WordBoundaryModel))
    names = list(batch)  # the forward's order: input_ids, attention_mask[, word_tags]
    axes = {"batch": 0, "sequence": 1}
    dynamic = {name: {v: k for k, v in axes.items()} for name in (*names, "logits")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(),
            tuple(batch.values()),
            str(tmp),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
    # Check on a different shape than the traced one, with padding: nothing may be baked in.
    check = {name: torch.cat([x, x[:1]], 0)[:, :-1].contiguous() for name, x in batch.items()}
    with torch.inference_mode():
        expected = model(**check).logits.numpy()
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {name: x.numpy() for name, x in check.items()})[0]
    valid = check["attention_mask"].numpy().astype(bool)
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


@dataclass
class _TokenizerOnly:
    tokenizer: object
    aligner: CharAligner
    model_version: str
    crf: CrfScores | None = None


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
    return _TokenizerOnly(
        tokenizer, aligner, settings.get("model_version", Path(checkpoint).name), CrfScores.load(model_dir)
    )
