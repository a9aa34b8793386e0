"""Annotation passes: inline markup, conversion to Label Studio exports, agreement between passes.

An annotation pass is the seed text with entities written inline as ``[[LABEL|text]]``;
removing the markup must give the seed text back exactly, which makes offsets exact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from govreport_ner.annotation.labelstudio_format import AnnotatedTask, to_export_task
from govreport_ner.evaluate.metrics import entity_scores
from govreport_ner.labels import LABELS
from govreport_ner.spans import Span
from govreport_ner.text.seeds import SeedMeta

MARKUP_RE = re.compile(r"\[\[(?P<label>[A-Z]+)\|(?P<text>[^\[\]|]*)\]\]")


class MarkupError(ValueError):
    """Inline markup that does not strip back to the original text."""


def parse_markup(marked: str, original: str | None = None, where: str = "") -> tuple[str, list[Span]]:
    """``(plain text, spans)`` from inline markup; checks labels and, if given, the original text."""
    parts, spans, pos, plain_len = [], [], 0, 0
    for m in MARKUP_RE.finditer(marked):
        if m.group("label") not in LABELS:
            raise MarkupError(f"{where}: unknown label {m.group('label')!r} at {m.start()}")
        before = marked[pos : m.start()]
        parts.append(before)
        plain_len += len(before)
        text = m.group("text")
        if not text:
            raise MarkupError(f"{where}: empty span at {m.start()}")
        spans.append(Span(plain_len, plain_len + len(text), m.group("label"), text))
        parts.append(text)
        plain_len += len(text)
        pos = m.end()
    parts.append(marked[pos:])
    plain = "".join(parts)
    if "[[" in plain or "]]" in plain:
        raise MarkupError(f"{where}: unmatched or malformed markup left in the text")
    if original is not None and plain != original:
        at = next(
            (i for i, (a, b) in enumerate(zip(plain, original, strict=False)) if a != b), min(len(plain), len(original))
        )
        raise MarkupError(
            f"{where}: text differs from the original at character {at}: {plain[at : at + 20]!r} vs {original[at : at + 20]!r}"
        )
    return plain, spans


def to_markup(text: str, spans: Sequence[Span]) -> str:
    """Inline markup for a text and its (non-overlapping) spans."""
    out, pos = [], 0
    for s in sorted(spans):
        out += [text[pos : s.start], f"[[{s.label}|{text[s.start : s.end]}]]"]
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def read_pass(pass_dir: Path | str, seeds: Sequence[tuple[object, SeedMeta]]) -> list[AnnotatedTask]:
    """One annotation pass (a folder of marked-up seed files) as annotated tasks."""
    pass_dir = Path(pass_dir)
    tasks = []
    for document, meta in seeds:
        marked_file = pass_dir / meta.file
        if not marked_file.exists():
            raise FileNotFoundError(f"{marked_file}: pass has no file for {meta.doc_id}")
        _, spans = parse_markup(marked_file.read_text(encoding="utf-8"), document.text, str(marked_file))
        tasks.append(AnnotatedTask(meta.doc_id, meta.doc_id, meta.region, document.text, 0, tuple(spans)))
    return tasks


def export_tasks(tasks: Sequence[AnnotatedTask]) -> list[dict]:
    """Annotated tasks as a Label Studio export (a JSON-ready list)."""
    return [to_export_task(task, annotation_id=i + 1) for i, task in enumerate(tasks)]


def pass_agreement(first: Sequence[AnnotatedTask], second: Sequence[AnnotatedTask]) -> dict:
    """Entity-level strict and partial agreement between two passes over the same documents."""
    return entity_scores([(t.doc_id, t.spans) for t in first], [(t.doc_id, t.spans) for t in second])


def disagreements(first: Sequence[AnnotatedTask], second: Sequence[AnnotatedTask]) -> list[dict]:
    """Every span found in only one pass, with the clause-sized context around it."""
    by_doc = {t.doc_id: t for t in second}
    rows = []
    for a in first:
        b = by_doc[a.doc_id]
        only_a, only_b = set(a.spans) - set(b.spans), set(b.spans) - set(a.spans)
        for who, spans in (("A", only_a), ("B", only_b)):
            for s in sorted(spans):
                rows.append(
                    {
                        "doc_id": a.doc_id,
                        "only_in": who,
                        "start": s.start,
                        "end": s.end,
                        "label": s.label,
                        "text": s.text,
                        "context": a.text[max(0, s.start - 15) : s.end + 15].replace("\n", "⏎"),
                    }
                )
    return sorted(rows, key=lambda r: (r["doc_id"], r["start"], r["only_in"]))
