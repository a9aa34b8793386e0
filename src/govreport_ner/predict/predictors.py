"""Model predictors and :func:`load_predictor`, which builds any :class:`~govreport_ner.predict.protocol.Predictor`.

``load_predictor`` is what prediction (``predict.py``), evaluation (``evaluate.py``,
``aggregate.py``), Label Studio pre-annotations and the benchmarks call: the rules, a torch
or ONNX model, or the model+rules hybrid, from a checkpoint path or a config.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from govreport_ner.extract import rules
from govreport_ner.extract.snap import snap_spans
from govreport_ner.model.ensemble import EnsembleTagger, ensemble_members
from govreport_ner.model.onnx import OnnxTagger, _tokenizer_only, onnx_cache, onnx_model_path, onnx_session
from govreport_ner.model.tagger import DEFAULT_BATCH_SIZE, DEFAULT_MAX_TOKENS, Tagger
from govreport_ner.model.threads import configure_threads
from govreport_ner.predict.protocol import ClausePredictor, Predictor, RulePredictor
from govreport_ner.spans import Span
from govreport_ner.text.segment import DEFAULT_MAX_CHARS

log = logging.getLogger(__name__)

ENGINES = ("auto", "torch", "onnx")
RULES = "rules"


def onnx_available() -> bool:
    """Whether the ONNX engine can run here (the ``onnx`` extra: onnxruntime, and onnx for the export)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def resolve_engine(engine: str, quantize: bool = False) -> str:
    """The engine ``engine="auto"`` stands for: the fastest one whose predictions are torch's.

    That is ONNX Runtime fp32 when the ``onnx`` extra is installed (the same predictions as
    torch, checked by a test, at about 1.4x its speed), else torch. int8 changes predictions
    (README: -0.02 micro-F1), so it is never chosen for you: ``quantize=true`` asks for it
    and needs ONNX Runtime.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine != "auto":
        return engine
    if quantize or onnx_available():
        return "onnx"
    log.info("engine=auto: onnxruntime is not installed, running torch (pip install -e '.[onnx]' is faster)")
    return "torch"


class ModelPredictor(ClausePredictor):
    """A tagger (torch or ONNX engine) applied to clauses; with ``rule_labels``, the model+rules hybrid."""

    def __init__(
        self,
        tagger,
        max_chars: int | None = DEFAULT_MAX_CHARS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        rule_labels: Sequence[str] = (),
        _last: dict | None = None,
    ):
        self.tagger = tagger
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.rule_labels = tuple(rule_labels)
        suffix = f"+rules({','.join(self.rule_labels)})" if self.rule_labels else ""
        self.model_version = tagger.model_version + suffix
        self.engine = getattr(tagger, "engine", "torch")
        self._last = {} if _last is None else _last  # shared with with_rule_labels() copies

    def model_spans(self, clauses: Sequence[str]) -> list[list[Span]]:
        """The model's snapped spans of ``clauses``; the last call's are kept, so the model alone and its
        hybrid (evaluate.py, aggregate.py) run the model once over the same clauses."""
        key = tuple(clauses)
        if self._last.get("clauses") != key:
            predicted = self.tagger.predict_clauses(clauses, self.batch_size)
            # whole numbers and units, names that pass the checks (extract/snap.py): predict and evaluate alike
            self._last.update(clauses=key, spans=[snap_spans(t, s) for t, s in zip(clauses, predicted, strict=True)])
        return [list(spans) for spans in self._last["spans"]]

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]:
        predicted = self.model_spans(clauses)
        if self.rule_labels:  # the model+rules hybrid: rules decide these labels
            predicted = [
                rules.merge_with_rules(t, spans, self.rule_labels) for t, spans in zip(clauses, predicted, strict=True)
            ]
        return predicted

    def with_rule_labels(self, rule_labels: Sequence[str]) -> ModelPredictor:
        """The hybrid of the same loaded model: the rules decide ``rule_labels``."""
        return ModelPredictor(self.tagger, self.max_chars, self.batch_size, rule_labels, self._last)


PREDICTOR_KEYS = (
    "engine",
    "quantize",
    "onnx_dir",
    "num_threads",
    "batch_size",
    "max_tokens",
    "max_chars",
    "rule_labels",
)


def load_predictor(checkpoint: Path | str | Sequence[Path | str] | Mapping, **options) -> Predictor:
    """The predictor of ``checkpoint`` (see :func:`build_predictor`), or of a config.

    Given a mapping (the ``predict`` or ``evaluate`` config), its ``checkpoint`` and the
    :data:`PREDICTOR_KEYS` it has are used; ``options`` override them.
    """
    if isinstance(checkpoint, Mapping):
        given = predictor_options(checkpoint)
        checkpoint = given.pop("checkpoint")
        options = {**given, **options}
    return build_predictor(checkpoint, **options)


def predictor_options(cfg: Mapping) -> dict:
    """``checkpoint`` and the :data:`PREDICTOR_KEYS` of a config, as plain values (for another process)."""
    given = {key: cfg[key] for key in PREDICTOR_KEYS if key in cfg}
    if given.get("rule_labels") is not None:
        given["rule_labels"] = [str(label) for label in given["rule_labels"]]
    checkpoints = checkpoint_list(cfg["checkpoint"])
    return {"checkpoint": checkpoints[0] if len(checkpoints) == 1 else checkpoints, **given}


def checkpoint_list(checkpoint: Path | str | Sequence[Path | str]) -> list[str]:
    """``checkpoint`` as a list of paths: one, or the members of an ensemble.

    An ensemble is a list (or a Hydra ListConfig) of training output_dirs, or one output_dir that
    ``train.py`` wrote with ``ensemble_seeds`` (its ``ensemble.json`` names the members).
    """
    paths = [str(checkpoint)] if isinstance(checkpoint, str | Path) else [str(path) for path in checkpoint]
    if not paths:
        raise ValueError("checkpoint is an empty list: give a training output_dir, a list of them, or 'rules'")
    expanded = []
    for path in paths:
        members = ensemble_members(path) if path != RULES else None
        expanded += [str(member) for member in members] if members else [path]
    return expanded


def _member_onnx_dir(onnx_dir: Path | str | None, index: int, members: int) -> Path | str | None:
    """Where member ``index`` of an ensemble keeps its ONNX export when ``onnx_dir`` is given."""
    if onnx_dir is None or members == 1:
        return onnx_dir
    return Path(onnx_dir) / f"member-{index}"


def _tagger(checkpoint: str, engine: str, quantize: bool, onnx_dir: Path | str | None, threads: int) -> Tagger:
    """The tagger of one checkpoint on ``engine`` (an ONNX export is made and cached when needed)."""
    if engine != "onnx":
        return Tagger.from_checkpoint(checkpoint)
    cached = onnx_cache(checkpoint, onnx_dir).fresh(quantize)
    base = _tokenizer_only(checkpoint) if cached else Tagger.from_checkpoint(checkpoint)
    path = onnx_model_path(checkpoint, quantize, onnx_dir, tagger=None if cached else base)
    version = f"{base.model_version}+onnx{'-int8' if quantize else ''}"
    tagger = OnnxTagger(onnx_session(path, threads), base.tokenizer, base.aligner, version, base.crf)
    tagger.engine = "onnx int8" if quantize else "onnx fp32"
    return tagger


def build_predictor(
    checkpoint: Path | str | Sequence[Path | str],
    engine: str = "auto",
    quantize: bool = False,
    onnx_dir: Path | str | None = None,
    num_threads: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    rule_labels: Sequence[str] | None = (),
) -> Predictor:
    """A :class:`Predictor`: the rules, a torch or ONNX model, an ensemble, or a model+rules hybrid.

    ``rule_labels`` (e.g. QUANTITY, UNIT, DEADLINE) makes a model+rules hybrid: the rule
    pre-annotator decides those labels, the model the others.

    ``checkpoint`` is a training ``output_dir`` (or its ``model/`` folder), ``"rules"`` for the
    rule pre-annotator, or an ensemble that averages the logits of two or more training outputs:
    a list of them, or an output_dir trained with ``ensemble_seeds`` (:class:`~govreport_ner.model.ensemble.EnsembleTagger`). ``engine="auto"`` (the
    default) is the fastest engine whose predictions are torch's (:func:`resolve_engine`).
    ``engine="onnx"`` runs the model with ONNX Runtime (exported once into a cache, see
    :func:`onnx_model_path`; with an ensemble and ``onnx_dir``, member i uses ``onnx_dir/member-i``);
    ``quantize=True`` uses its dynamic int8 version. Torch (and ONNX Runtime) use
    ``num_threads`` threads, default all cores.
    """
    checkpoints = checkpoint_list(checkpoint)
    if checkpoints == [RULES]:
        return RulePredictor(max_chars)
    if RULES in checkpoints:
        raise ValueError(f"the rules cannot be a member of an ensemble: {checkpoints}")
    engine = resolve_engine(engine, quantize)
    if quantize and engine != "onnx":
        raise ValueError("quantize=true needs engine=onnx (dynamic int8 quantization is done by ONNX Runtime)")
    threads = configure_threads(num_threads)
    members = [
        _tagger(path, engine, quantize, _member_onnx_dir(onnx_dir, i, len(checkpoints)), threads)
        for i, path in enumerate(checkpoints)
    ]
    tagger = members[0] if len(members) == 1 else EnsembleTagger(members)
    tagger.max_tokens = int(max_tokens)
    return ModelPredictor(tagger, max_chars, int(batch_size), rule_labels or ())
