"""Clause segmentation with document offsets; nothing is ever lost or duplicated."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

SENTENCE_END = "。！？；!?;"
LINE_BREAKS = "\r\n\u2028\u2029"
SOFT_BREAKS = "，、,"
DEFAULT_MAX_CHARS = 200

_CLAUSE_RE = re.compile(rf"[^{SENTENCE_END}{LINE_BREAKS}]*[{SENTENCE_END}]*")


@dataclass(frozen=True)
class Clause:
    """A clause: ``text == document[start:end]``."""

    start: int
    end: int
    text: str


def _raw_clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of every piece that ends at sentence-final punctuation or a line break."""
    pieces = []
    for match in _CLAUSE_RE.finditer(text):
        if match.end() > match.start():
            pieces.append((match.start(), match.end()))
    return pieces


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink (start, end) past surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _inside(pos: int, keep_together: Sequence[tuple[int, int]]) -> bool:
    """True when cutting at ``pos`` would cut one of the protected ranges."""
    return any(a < pos < b for a, b in keep_together)


def _split_long(
    text: str, start: int, end: int, max_chars: int, keep_together: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """Split text[start:end] into pieces of at most ``max_chars``, at ，、 where possible.

    Cuts never fall inside a ``keep_together`` range (an entity span); a hard split is the
    last resort, moved back to the start of a range it would cut.
    """
    pieces = []
    while end - start > max_chars:
        limit = start + max_chars
        soft = [i + 1 for i in range(start, limit) if text[i] in SOFT_BREAKS and not _inside(i + 1, keep_together)]
        cut = soft[-1] if soft else limit
        while _inside(cut, keep_together):
            cut = max(a for a, b in keep_together if a < cut < b)
        if cut <= start:
            raise ValueError(f"a protected span at {start} is longer than max_chars={max_chars}")
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def segment(
    text: str,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    keep_together: Sequence[tuple[int, int]] = (),
) -> list[Clause]:
    """Clauses of ``text`` in order, blank ones dropped, each at most ``max_chars`` long.

    Clauses end after 。！？； (and their ASCII forms) or at a line break. Leading and
    trailing whitespace is left in the gaps between clauses, so joining the clauses
    with the gaps gives the document back. ``keep_together`` ranges (entity spans) are
    never cut by the length split.
    """
    if max_chars is not None and max_chars < 1:
        raise ValueError("max_chars must be a positive number of characters")
    clauses = []
    for raw_start, raw_end in _raw_clauses(text):
        start, end = _trim(text, raw_start, raw_end)
        if start == end:
            continue
        pieces = [(start, end)] if max_chars is None else _split_long(text, start, end, max_chars, keep_together)
        for piece_start, piece_end in pieces:
            s, e = _trim(text, piece_start, piece_end)
            if s < e:
                clauses.append(Clause(s, e, text[s:e]))
    return clauses
