"""Model spans snapped to whole numbers and units after decoding (issue 14 item 4).

A token classifier decodes character spans that may start or end inside a number
(``32943元`` -> ``29`` + ``43``) or put a magnitude into the unit (``54亿元`` -> ``54`` +
``亿元``). :func:`snap_spans` repairs them, clause by clause, before anything else reads
them; :class:`govreport_ner.predict.predictors.ModelPredictor` applies it to every model
prediction, so ``predict.py`` and ``evaluate.py`` (which scores ``predict_clauses``) see the
same snapped spans. The rules already write whole numbers, so they are left as they are.

The steps, in order:

1. **QUANTITY** spans grow to the whole number: left over digits, ``.`` and ``,`` between
   digits, ``×`` after a digit; right over digits, decimals, a hedge 余/多 followed by a
   magnitude, and the magnitudes 万/亿 (千 not in 千瓦/千米/千克/千伏, 百 not in 百分点).
   A QUANTITY with no digit or Chinese numeral is dropped. Quantities that now overlap
   become one.
2. **UNIT** spans are made whole first: touching pieces join (标 + 箱; two units never touch),
   a trailing 的 is left out, and the first characters of a compound unit written in full grow
   to it (个 + 百分点, 千 + 瓦时, 人 + 次). Then they lose leading magnitude characters
   written right after a quantity: they move into the quantity (``54`` + ``亿元`` -> ``54亿``
   + ``元``). A unit that was only a magnitude (``亿``) disappears into the quantity: a
   magnitude is never a unit. A unit overlapping a quantity starts where the quantity ends.
3. **PROJECT/PROGRAM** spans are kept only when they look like names: at least two
   characters, at least two CJK characters, not a bare head word (项目, 工程, 计划 …), not
   starting or ending with punctuation unless it is one of a pair the name holds
   (``“放管服”改革``, ``保税物流中心（B型）``, ``《…规划》``), and not overlapping a
   quantity. A name that opens a quote and stops right before its closing mark takes the mark
   in (and one that closes a pair opened right before it takes the opener); quotation marks
   around the whole name are left out, and a footnote marker (（46）, ㉙) ends a name, as the
   annotation spec says. A name that overlaps a whole unit at an edge gives the unit up
   (``120万千`` + ``瓦抽水蓄能项目`` -> ``千瓦`` + ``抽水蓄能项目``); one holding a unit inside
   is dropped, like one holding a quantity. Otherwise the span is dropped, so a target
   attaches a real name or none.
4. The spans are flat: a span overlapping one kept before it (numbers first) is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from govreport_ner.spans import Span

MAGNITUDE_RE = re.compile(r"(?:[余多](?=[万亿千百]))?(?:万|亿|千(?![瓦米克伏])|百(?!分))")
_DIGIT = re.compile(r"[0-9０-９]")
_NUMERAL = re.compile(r"[0-9０-９零〇一二两三四五六七八九十百千万亿]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
GENERIC_NAMES = frozenset(
    "项目 工程 计划 行动 方案 中心 基地 园区 产业园 学校 医院 带 区 片区 平台 体系 机制 制度 改革 战略 试点 工作".split()
)
_PUNCT = "，。、；：,.;:！？!?（）()“”\"'《》【】 \t\r\n"
BRACKET_PAIRS = {"“": "”", "《": "》", "（": "）", "(": ")", "【": "】", "‘": "’", "「": "」"}
# Units whose first characters are never the unit alone when the rest follows (longest first).
COMPOUND_UNITS = sorted(
    "个百分点 千瓦时 千瓦 兆瓦 人次 户次 场次 座次 标箱 微克/立方米 平方公里 平方米 立方米 千米 千克".split(),
    key=len,
    reverse=True,
)
UNIT_NEVER_ENDS = "的和及与或等"
FOOTNOTE_RE = re.compile(r"[（(]\d{1,3}[）)]|[\u2460-\u2473\u3251-\u325f\u32b1-\u32bf]")  # （46）, ㉙
ENCLOSING_MARKS = {"“": "”", "《": "》", "‘": "’", "「": "」"}  # left out when they enclose the whole name


def _is_digit(ch: str) -> bool:
    return bool(_DIGIT.fullmatch(ch))


def _grow_quantity(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole number around text[start:end]."""
    while start > 0:
        prev = text[start - 1]
        if _is_digit(prev) or (prev in ".,．，×xX" and start >= 2 and _is_digit(text[start - 2]) and prev != "，"):
            start -= 1
        else:
            break
    while end < len(text):
        nxt = text[end]
        if _is_digit(nxt) or (nxt in ".,．" and end + 1 < len(text) and _is_digit(text[end + 1])):
            end += 1
            continue
        m = MAGNITUDE_RE.match(text, end)
        if m and end > start and (_is_digit(text[end - 1]) or text[end - 1] in "万亿千百余多"):
            end = m.end()
            continue
        break
    return start, end


def _clean_edges(words: str) -> bool:
    """No punctuation at either end, except an opening or closing bracket whose partner the name holds."""
    first, last = words[0], words[-1]
    opens_a_pair = first in BRACKET_PAIRS and BRACKET_PAIRS[first] in words[1:]
    closes_a_pair = any(last == close and open_ in words[:-1] for open_, close in BRACKET_PAIRS.items())
    return (first not in _PUNCT or opens_a_pair) and (last not in _PUNCT or closes_a_pair)


def _mend_name_edges(text: str, span: Span, others: Sequence[Span]) -> Span:
    """A name that opens a quote or bracket and stops just before its partner takes the partner in
    (``新冠病毒感染“乙类乙管`` + ``”``), and one that closes a pair opened just before it takes the
    opener; quotation marks around the whole name are left out (``“双减”`` -> ``双减``, as the
    annotation spec says). A footnote marker carried over from the source (``（46）``, ``㉙``) ends
    the name, as the spec says. Never over another span."""
    start, end = span.start, span.end
    marker = FOOTNOTE_RE.search(text, start, end)
    if marker and marker.start() > start:  # a footnote marker is never inside a name: up to the marker
        end = marker.start()
    words = text[start:end]
    for open_, close in BRACKET_PAIRS.items():
        if words.count(open_) > words.count(close) and text[end : end + 1] == close:
            end += 1
        if words.count(close) > words.count(open_) and start > 0 and text[start - 1] == open_:
            start -= 1
    if end - start > 2 and text[start] in ENCLOSING_MARKS and text[end - 1] == ENCLOSING_MARKS[text[start]]:
        inner = text[start + 1 : end - 1]
        if text[start] not in inner and text[end - 1] not in inner:  # marks around the whole name are left out
            start, end = start + 1, end - 1
    if (start, end) == (span.start, span.end) or any(o is not span and o.start < end and start < o.end for o in others):
        return span
    return Span(start, end, span.label, text[start:end], span.score)


def _magnitude_at(text: str, start: int, end: int) -> re.Match | None:
    """A magnitude at ``start`` that ends by ``end``, read in the whole text (千 of 千瓦 is no magnitude
    even when the unit span stops after 千)."""
    m = MAGNITUDE_RE.match(text, start)
    return m if m and m.end() <= end else None


def _whole_units(text: str, spans: Sequence[Span]) -> list[tuple[int, int, float | None]]:
    """The UNIT spans made whole: touching pieces joined (标 + 箱, 元 + / + 亩: two units never touch,
    since each follows its own quantity), a trailing 的 left out, and a piece that begins a compound
    unit written in full grown to it (个 of 个百分点, 千 of 千瓦时, 人 of 人次)."""
    merged: list[list] = []
    for span in sorted(s for s in spans if s.label == "UNIT"):
        if merged and span.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span.end)
        else:
            merged.append([span.start, span.end, span.score])
    for unit in merged:
        while unit[1] - unit[0] > 1 and text[unit[1] - 1] in UNIT_NEVER_ENDS:
            unit[1] -= 1
        piece = text[unit[0] : unit[1]]
        grown = [
            u for u in COMPOUND_UNITS if len(u) > len(piece) and u.startswith(piece) and text.startswith(u, unit[0])
        ]
        if grown:
            unit[1] = unit[0] + len(grown[0])
    return [(a, b, score) for a, b, score in merged]


def _outside_units(text: str, span: Span, units: Sequence[Span]) -> Span | None:
    """A name moved off the whole units at its edges; None when a unit lies inside it."""
    start, end = span.start, span.end
    for unit in units:
        if unit.start <= start < unit.end:
            start = unit.end
        elif unit.start < end <= unit.end:
            end = unit.start
        elif start < unit.start and unit.end < end:
            return None
    if end <= start:
        return None
    return span if (start, end) == (span.start, span.end) else Span(start, end, span.label, text[start:end], span.score)


def _flat(spans: Sequence[Span]) -> list[Span]:
    """The spans that overlap none kept before them (earlier spans win), sorted."""
    kept: list[Span] = []
    for span in spans:
        if not any(span.overlaps(k) for k in kept):
            kept.append(span)
    return sorted(kept)


def _is_name(text: str, span: Span) -> bool:
    words = text[span.start : span.end]
    return len(words) >= 2 and len(_CJK.findall(words)) >= 2 and words not in GENERIC_NAMES and _clean_edges(words)


def snap_spans(text: str, spans: Sequence[Span]) -> list[Span]:
    """Spans of ``text`` (offsets into ``text``) snapped to whole numbers, units and names; sorted, flat."""
    quantities: list[list] = []  # [start, end, score]
    for span in sorted(s for s in spans if s.label == "QUANTITY"):
        if not _NUMERAL.search(text, span.start, span.end):
            continue
        start, end = _grow_quantity(text, span.start, span.end)
        if quantities and start < quantities[-1][1]:
            quantities[-1][1] = max(quantities[-1][1], end)  # 29 + 43 of 32943: one number
        else:
            quantities.append([start, end, span.score])
    units = []
    for start, end, score in _whole_units(text, spans):
        for q in quantities:
            if q[0] < end and start < q[1]:
                start = max(start, q[1])  # a unit never overlaps its quantity
            if q[1] == start:  # magnitudes written right after the number belong to it
                m = _magnitude_at(text, start, end)
                while m:
                    q[1] = start = m.end()
                    m = _magnitude_at(text, start, end)
        if end > start:
            units.append(Span(start, end, "UNIT", text[start:end], score))
    kept = [Span(a, b, "QUANTITY", text[a:b], score) for a, b, score in quantities]
    kept += units
    for span in spans:
        if span.label in ("QUANTITY", "UNIT"):
            continue
        if any(span.start < q[1] and q[0] < span.end for q in quantities):
            continue
        if span.label in ("PROJECT", "PROGRAM"):
            span = _outside_units(text, _mend_name_edges(text, span, spans), units)
            if span is None or not _is_name(text, span):
                continue
        kept.append(Span(span.start, span.end, span.label, text[span.start : span.end], span.score))
    return _flat(kept)
