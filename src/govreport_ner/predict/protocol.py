"""The one interface of every tagger: a :class:`Predictor` tags clause texts (clause offsets) and
whole documents (document offsets). :class:`ClausePredictor` is the one document path: a
document is segmented once with the predictor's clause budget, the clauses of a batch of
documents are tagged together, and the spans are shifted back to the document.

Nothing here needs torch: the rules (:class:`RulePredictor`) run without it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from govreport_ner.extract import rules
from govreport_ner.spans import Span
from govreport_ner.text.segment import DEFAULT_MAX_CHARS, Clause, segment


@runtime_checkable
class Predictor(Protocol):
    """Anything that tags text: spans per clause, or per document (document offsets)."""

    model_version: str

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]: ...

    def tag_documents(self, texts: Sequence[str]) -> list[tuple[list[Clause], list[Span]]]: ...

    def predict_documents(self, texts: Sequence[str]) -> list[list[Span]]: ...

    def predict_spans(self, text: str) -> list[Span]: ...


class ClausePredictor:
    """The document path shared by every predictor: segment once, tag the clauses, shift back."""

    model_version = ""
    max_chars: int | None = DEFAULT_MAX_CHARS

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]:
        """Spans (clause-local offsets) of each clause text."""
        raise NotImplementedError

    def tag_documents(self, texts: Sequence[str]) -> list[tuple[list[Clause], list[Span]]]:
        """The clauses of each document (segmented once, at ``max_chars``) and its spans (document offsets)."""
        per_doc = [segment(text, self.max_chars) for text in texts]
        predicted = iter(self.predict_clauses([clause.text for clauses in per_doc for clause in clauses]))
        return [(clauses, [s.shifted(c.start) for c in clauses for s in next(predicted)]) for clauses in per_doc]

    def predict_documents(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans of several documents; their clauses are tagged together."""
        return [spans for _, spans in self.tag_documents(texts)]

    def predict_spans(self, text: str) -> list[Span]:
        """Spans of one document (document offsets)."""
        return self.predict_documents([text])[0]


class RulePredictor(ClausePredictor):
    """The rule pre-annotator behind the same interface as a model."""

    model_version = rules.MODEL_VERSION
    engine = "rules"

    def __init__(self, max_chars: int | None = DEFAULT_MAX_CHARS):
        self.max_chars = max_chars

    def predict_clauses(self, clauses: Sequence[str]) -> list[list[Span]]:
        return [rules.tag_clause(clause) for clause in clauses]
