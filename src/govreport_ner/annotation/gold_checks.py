"""Consistency checks over gold annotations (run by the test suite on the committed gold)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from govreport_ner.annotation.labelstudio_format import AnnotatedTask
from govreport_ner.spans import Span

CONTEXT = 2  # characters on each side that make two occurrences "the same context"


@dataclass(frozen=True)
class Inconsistency:
    """A string labelled one way in one place and differently in the same context elsewhere."""

    text: str
    label: str
    labelled_at: str
    differs_at: str
    other: str

    def __str__(self) -> str:
        return f"{self.text!r} is {self.label} at {self.labelled_at} but {self.other} at {self.differs_at}"


GAP_BEFORE_UNIT = "余多 \u3000\t\r\n"  # a hedge (1500余亩, spec) or white space may stand between amount and unit


def orphan_units(task: AnnotatedTask) -> list[Span]:
    """UNIT spans with no QUANTITY right before them (a hedge 余/多 or white space may lie between)."""
    ends = {s.end for s in task.spans if s.label == "QUANTITY"}
    orphans = []
    for s in task.spans:
        if s.label != "UNIT":
            continue
        start = s.start
        while start > 0 and start not in ends and task.text[start - 1] in GAP_BEFORE_UNIT:
            start -= 1
        if start not in ends:
            orphans.append(s)
    return orphans


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    return text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT]


def inconsistent_labels(tasks: Sequence[AnnotatedTask], min_length: int = 2) -> list[Inconsistency]:
    """Every occurrence of a labelled string, in the same context, that is not labelled the same way.

    ``min_length`` skips one-character strings (units like 个 are legitimately unlabelled
    when no amount precedes them).
    """
    labelled: dict[tuple[str, str, str], tuple[str, str]] = {}
    for task in tasks:
        for s in task.spans:
            if len(s.text) >= min_length:
                labelled[(s.text, *_context(task.text, s.start, s.end))] = (s.label, f"{task.doc_id}:{s.start}")
    by_text = defaultdict(list)
    for (text, before, after), value in labelled.items():
        by_text[text].append((before, after, value))
    found = []
    for task in tasks:
        spans = {(s.start, s.end): s.label for s in task.spans}
        for text, contexts in by_text.items():
            start = task.text.find(text)
            while start != -1:
                end = start + len(text)
                ctx = _context(task.text, start, end)
                for before, after, (label, where) in contexts:
                    if (before, after) == ctx and spans.get((start, end)) != label:
                        other = spans.get((start, end)) or _covering(task, start, end) or "unlabelled"
                        found.append(Inconsistency(text, label, where, f"{task.doc_id}:{start}", other))
                start = task.text.find(text, start + 1)
    return found


def _covering(task: AnnotatedTask, start: int, end: int) -> str | None:
    """Label and text of a span that covers [start, end) differently, if any."""
    for s in task.spans:
        if s.start <= start and end <= s.end and (s.start, s.end) != (start, end):
            return f"inside {s.label} {s.text!r}"
    return None
