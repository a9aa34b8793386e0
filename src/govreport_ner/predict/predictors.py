"""Predictors: the one interface between a tagger (rules, torch or ONNX model, hybrid) and its users.

A :class:`Predictor` tags clause texts (:meth:`~Predictor.predict_clauses`, clause offsets)
and whole documents (:meth:`~Predictor.predict_documents`, document offsets): a document is
segmented once with the predictor's clause budget, every clause of a batch of documents is
tagged together, and the spans are shifted back to the document. Prediction (``predict.py``),
evaluation (``evaluate.py``, ``aggregate.py``), Label Studio pre-annotations and the
benchmarks all go through it; :func:`load_predictor` builds any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from govreport_ner.extract import rules
from govreport_ner.model.onnx import OnnxTagger, _tokenizer_only, onnx_cache, onnx_model_path, onnx_session
from govreport_ner.model.tagger import DEFAULT_BATCH_SIZE, DEFAULT_MAX_TOKENS, Tagger
from govreport_ner.model.threads import configure_threads
from govreport_ner.spans import Span
from govreport_ner.text.segment import DEFAULT_MAX_CHARS, segment

ENGINES = ("torch", "onnx")
RULES = "rules"


@runtime_checkable
class Predictor(Protocol):
    """Anything that tags text: spans per clause, or per document (document offsets)."""

    model_version: str

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]: ...

    def predict_documents(self, texts: Sequence[str]) -> list[list[Span]]: ...

    def predict_spans(self, text: str) -> list[Span]: ...


class ClausePredictor:
    """The document path shared by every predictor: segment once, tag the clauses, shift back."""

    model_version = ""
    max_chars: int | None = DEFAULT_MAX_CHARS

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]:
        """Spans (clause-local offsets) of each clause text."""
        raise NotImplementedError

    def predict_documents(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans of several documents; their clauses are tagged together."""
        per_doc = [segment(text, self.max_chars) for text in texts]
        predicted = iter(self.predict_clauses([clause.text for clauses in per_doc for clause in clauses]))
        return [[s.shifted(c.start) for c in clauses for s in next(predicted)] for clauses in per_doc]

    def predict_spans(self, text: str) -> list[Span]:
        """Spans of one document (document offsets)."""
        return self.predict_documents([text])[0]


class RulePredictor(ClausePredictor):
    """The rule pre-annotator behind the same interface as a model."""

    model_version = rules.MODEL_VERSION

    def __init__(self, max_chars: int | None = DEFAULT_MAX_CHARS):
        self.max_chars = max_chars

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]:
        return [rules.tag_clause(clause) for clause in clauses]


class ModelPredictor(ClausePredictor):
    """A tagger (torch or ONNX engine) applied to clauses; with ``rule_labels``, the model+rules hybrid."""

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

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]:
        predicted = self.tagger.predict_clauses(clauses, self.batch_size)
        if self.rule_labels:  # the model+rules hybrid: rules decide these labels
            predicted = [
                rules.merge_with_rules(t, spans, self.rule_labels) for t, spans in zip(clauses, predicted, strict=True)
            ]
        return predicted

    def with_rule_labels(self, rule_labels: Sequence[str]) -> ModelPredictor:
        """The hybrid of the same loaded model: the rules decide ``rule_labels``."""
        return ModelPredictor(self.tagger, self.max_chars, self.batch_size, rule_labels)


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
