"""Character spans: the one representation of an entity used across the pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from govreport_ner.labels import LABELS


@dataclass(frozen=True, order=True)
class Span:
    """An entity: ``text[start:end]`` with a label; offsets are Python ``str`` indices."""

    start: int
    end: int
    label: str
    text: str = field(default="", compare=False)
    score: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """Plain dict for JSON output (score left out when unknown)."""
        d = asdict(self)
        if d["score"] is None:
            del d["score"]
        return d

    def shifted(self, offset: int) -> Span:
        """The same span moved by ``offset`` characters."""
        return Span(self.start + offset, self.end + offset, self.label, self.text, self.score)

    def overlaps(self, other: Span) -> bool:
        """True when the two spans share at least one character."""
        return self.start < other.end and other.start < self.end


def span_from_text(text: str, start: int, end: int, label: str, score: float | None = None) -> Span:
    """A span whose ``text`` is read from the document, so it always matches the offsets."""
    return Span(start, end, label, text[start:end], score)


def check_spans(text: str, spans: Iterable[Span], where: str = "") -> list[Span]:
    """The spans of a document, checked once: a known label, inside the text, ``text`` read from it.

    A span whose own non-empty ``text`` differs from the document's characters was computed
    on another text: a ``ValueError`` naming ``where``, as for an unknown label or bad offsets.
    """
    out = []
    for s in spans:
        problem = None
        if s.label not in LABELS:
            problem = "unknown label"
        elif not 0 <= s.start < s.end <= len(text):
            problem = f"outside text of length {len(text)}"
        elif s.text and s.text != text[s.start : s.end]:
            problem = f"text {s.text!r} does not match the document's {text[s.start : s.end]!r}"
        if problem:
            raise ValueError(f"{where + ': ' if where else ''}invalid span {s.start}-{s.end} {s.label!r}: {problem}")
        out.append(s if s.text else span_from_text(text, s.start, s.end, s.label, s.score))
    return out


def find_overlaps(spans: Iterable[Span]) -> list[tuple[Span, Span]]:
    """Pairs of overlapping spans (each pair once, in document order)."""
    ordered = sorted(spans)
    pairs = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            pairs.append((a, b))
    return pairs


def spans_to_bio(length: int, spans: Sequence[Span]) -> list[str]:
    """Character-level BIO tags for a text of ``length`` characters."""
    tags = ["O"] * length
    for span in sorted(spans):
        if span.label not in LABELS:
            raise ValueError(f"unknown label {span.label!r}")
        if not 0 <= span.start < span.end <= length:
            raise ValueError(f"span {span.start}-{span.end} outside text of length {length}")
        if any(t != "O" for t in tags[span.start : span.end]):
            raise ValueError(f"span {span.start}-{span.end} {span.label} overlaps another span")
        tags[span.start] = f"B-{span.label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.label}"
    return tags


def bio_to_spans(text: str, tags: Sequence[str], scores: Sequence[float] | None = None) -> list[Span]:
    """Spans from character BIO tags; a stray ``I-`` starts a new span (seqeval's lenient reading)."""
    spans: list[Span] = []
    start, label = None, None

    def close(end: int) -> None:
        if start is not None:
            score = None
            if scores is not None:
                score = float(sum(scores[start:end]) / (end - start))
            spans.append(span_from_text(text, start, end, label, score))

    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, tag_label = tag.partition("-")
        continues = prefix == "I" and tag_label == label and start is not None
        if continues:
            continue
        close(i)
        start, label = (i, tag_label) if prefix in ("B", "I") else (None, None)
    return spans
