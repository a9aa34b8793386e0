"""Targets: the entities of a clause grouped into one record per QUANTITY.

A target joins a QUANTITY with its UNIT, a comparator read from the words around it,
the DEADLINE it is due by and the PROJECT or PROGRAM it belongs to, and normalizes the
amount to numbers (``1.8万`` -> 18000, ``3-5万`` -> 30000..50000).

Comparator rules (:func:`read_comparator`), in this order of precedence:

1. a word right after the unit (or after the quantity when it has no unit of its own),
   skipping whitespace and a short parenthetical such as ``场(次)``:
   以上/及以上 -> ``>=``; 以下/及以下/以内/之内 -> ``<=``; 左右/上下 -> ``~``;
2. a word right before the quantity:
   不低于/不少于/不小于/超过/高于/多于/大于/至少/最少/突破/逾 -> ``>=``;
   不超过/不高于/不多于/不大于/控制在/低于/少于/小于/至多/最多/不到/不足 -> ``<=``;
   约/大约/近/将近/接近 -> ``~`` (not 节约/制约/…, not 最近/附近/…);
3. a hedge 余 or 多 between the quantity and its unit or inside the quantity -> ``~``;
4. for a list of quantities joined only by 、/和/及/与/或 (``35微克/立方米、70微克/立方米以下``,
   ``3.5%和6%以下``), a word after the last item or before the first one applies to all;
5. otherwise ``=``.

Comparators are deliberately non-strict: as issue #5 says, 超过 ("more than") reads as
``>=``, and so do 高于/多于/大于/突破; 低于/少于/小于/不到/不足 read as ``<=``. 达/达到 alone
is neutral (``=``); 达到…以上 is ``>=`` through the 以上.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from govreport_ner.extract.indicators import describe_targets, guess_document_year
from govreport_ner.extract.quantities import HEDGES, parse_quantity
from govreport_ner.spans import Span, check_spans
from govreport_ner.text.segment import Clause, segment

# --------------------------------------------------------------------------- comparators

GE, LE, APPROX, EQ = ">=", "<=", "~", "="

_SUFFIX_WORDS = {
    "及以上": GE,
    "以上": GE,
    "及以下": LE,
    "以下": LE,
    "以内": LE,
    "之内": LE,
    "左右": APPROX,
    "上下": APPROX,
}
_PREFIX_WORDS = {
    **dict.fromkeys(["不低于", "不少于", "不小于", "超过", "高于", "多于", "大于", "至少", "最少", "突破", "逾"], GE),
    **dict.fromkeys(["不超过", "不高于", "不多于", "不大于", "控制在", "低于", "少于", "小于", "至多", "最多"], LE),
    **dict.fromkeys(["不到", "不足"], LE),
    **dict.fromkeys(["大约", "将近", "接近"], APPROX),
}
_PREFIX_GUARDED = {r"(?<![节制契预简集公大])约": APPROX, r"(?<![最附就靠邻将接])近": APPROX}

_SKIP_AFTER_RE = re.compile(r"\s*(?:[(（][^()（）]{1,4}[)）]\s*)?")
_SUFFIX_RE = re.compile("|".join(sorted(map(re.escape, _SUFFIX_WORDS), key=len, reverse=True)))
_PREFIX_RE = re.compile(
    "(?:" + "|".join([*sorted(map(re.escape, _PREFIX_WORDS), key=len, reverse=True), *_PREFIX_GUARDED]) + r")\s*$"
)
_UNIT_GAP_RE = re.compile(rf"\s*[{HEDGES}]?\s*")
_LIST_SEP_RE = re.compile(r"\s*(?:、|和|及|与|或)\s*")


def _suffix_comparator(text: str, end: int) -> str | None:
    """Comparator written right after position ``end`` (以上, 以内, 左右 …), if any."""
    pos = _SKIP_AFTER_RE.match(text, end).end()
    m = _SUFFIX_RE.match(text, pos)
    return _SUFFIX_WORDS[m.group()] if m else None


def _prefix_comparator(text: str, start: int) -> str | None:
    """Comparator written right before position ``start`` (控制在, 不低于, 约 …), if any."""
    m = _PREFIX_RE.search(text[max(0, start - 8) : start])
    if not m:
        return None
    word = m.group().rstrip()
    if word in _PREFIX_WORDS:
        return _PREFIX_WORDS[word]
    return APPROX  # 约 / 近 through their guarded patterns


def _hedge_comparator(text: str, quantity: Span, unit: Span | None) -> str | None:
    """``~`` when 余/多 is written inside the quantity, between it and its unit, or (no unit) right after it."""
    if unit is not None and unit.start >= quantity.end:
        gap = text[quantity.end : unit.start]
    else:
        gap = text[quantity.end : quantity.end + 1]  # 3万余 with no unit of its own
    return APPROX if any(h in text[quantity.start : quantity.end] + gap for h in HEDGES) else None


def read_comparator(clause: str, quantity_span: Span, unit_span: Span | None = None) -> str:
    """Comparator (``>=``, ``<=``, ``~`` or ``=``) of one quantity, read from ``clause``.

    Span offsets index into ``clause`` (pass the whole document with document offsets,
    or a clause with clause-local offsets). Only the quantity's own surroundings are
    read; :func:`extract_targets` also shares a comparator across a list.
    """
    end = unit_span.end if unit_span is not None and unit_span.start >= quantity_span.end else quantity_span.end
    return (
        _suffix_comparator(clause, end)
        or _prefix_comparator(clause, quantity_span.start)
        or _hedge_comparator(clause, quantity_span, unit_span)
        or EQ
    )


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class _Item:
    """A QUANTITY with the UNIT written directly after it (if any)."""

    quantity: Span
    unit: Span | None
    amount: str | None = None  # the number text when it is not the quantity's (a merged range: 3个至5 -> 3至5)

    @property
    def end(self) -> int:
        return self.unit.end if self.unit is not None else self.quantity.end


@dataclass(frozen=True)
class Target:
    """One quantified target: a QUANTITY with its unit, comparator, deadline and project.

    Offsets are document offsets; ``text[clause_start:clause_end]`` is the clause the
    quantity is in. ``value`` is ``None`` for a range (see ``low``/``high``) and, with
    ``parse_error`` set, when the quantity text could not be parsed.
    """

    quantity: str
    value: float | None
    low: float | None
    high: float | None
    unit: str | None
    comparator: str
    deadline: str | None
    project: str | None
    project_label: str | None
    clause_start: int
    clause_end: int
    quantity_span: Span
    unit_span: Span | None = None
    deadline_span: Span | None = None
    project_span: Span | None = None
    parse_error: str | None = field(default=None)
    factor: float | None = None
    deadline_scope: str | None = None
    indicator: str | None = None
    indicator_start: int | None = None
    indicator_end: int | None = None
    indicator_id: str | None = None
    direction: str | None = None
    direction_span: Span | None = None
    headline: bool = False
    kind: str | None = None
    year: int | None = None
    year_source: str | None = None

    def to_dict(self) -> dict:
        """Plain dict for JSON output; spans as ``Span.to_dict()`` or ``None``."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in SPAN_FIELDS:
            d[key] = _span_dict(d[key]) if d[key] is not None else None
        return d


def _span_dict(span: Span) -> dict:
    """``Span.to_dict()`` without ``dataclasses.asdict`` (its deep copy is most of a record's cost)."""
    d = {"start": span.start, "end": span.end, "label": span.label, "text": span.text}
    if span.score is not None:
        d["score"] = span.score
    return d


SPAN_FIELDS = ("quantity_span", "unit_span", "deadline_span", "project_span", "direction_span")


def _items(text: str, spans: Sequence[Span]) -> list[_Item]:
    """QUANTITY spans in order, each with the UNIT directly after it (gap: space, 余, 多)."""
    items = []
    for i, span in enumerate(spans):
        if span.label != "QUANTITY":
            continue
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        direct = (
            nxt is not None
            and nxt.label == "UNIT"
            and nxt.start >= span.end
            and _UNIT_GAP_RE.fullmatch(text, span.end, nxt.start) is not None
        )
        items.append(_Item(span, nxt if direct else None))
    return items


_RANGE_GAP_RE = re.compile(r"\s*[-—–~～至到]\s*")


def _merge_ranges(text: str, items: list[_Item]) -> list[_Item]:
    """``6%-7%`` (two quantities with the same unit, joined by -/至/~) as one range item ``6%-7`` + ``%``."""
    merged: list[_Item] = []
    for item in items:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.unit is not None
            and item.unit is not None
            and prev.unit.text == item.unit.text
            and _RANGE_GAP_RE.fullmatch(text, prev.unit.end, item.quantity.start) is not None
        ):
            start, end = prev.quantity.start, item.quantity.end
            amount = text[start : prev.unit.start] + text[prev.unit.end : end]
            merged[-1] = _Item(Span(start, end, "QUANTITY", text[start:end]), item.unit, amount)
        else:
            merged.append(item)
    return merged


def _chains(text: str, items: list[_Item]) -> list[list[_Item]]:
    """Items grouped into lists joined only by 、/和/及/与/或 (``1万、2万亩``)."""
    chains: list[list[_Item]] = []
    for item in items:
        if chains and _LIST_SEP_RE.fullmatch(text, chains[-1][-1].end, item.quantity.start) is not None:
            chains[-1].append(item)
        else:
            chains.append([item])
    return chains


def _shared_unit(chain: list[_Item], index: int) -> Span | None:
    """The item's own unit, else the first unit written after it in the same list."""
    for item in chain[index:]:
        if item.unit is not None:
            return item.unit
    return None


def _chain_comparator(text: str, chain: list[_Item], index: int) -> str:
    """Comparator of ``chain[index]``: its own words first, then the list's."""
    item = chain[index]
    own = read_comparator(text, item.quantity, item.unit)
    if own != EQ:
        return own
    return _suffix_comparator(text, chain[-1].end) or _prefix_comparator(text, chain[0].quantity.start) or EQ


_SENTENCE_RE = re.compile(r"[^。！？；!?;\r\n\u2028\u2029]*[。！？；!?;]*")
_COLON_RE = re.compile("[：:]")
_MAGNITUDE_ONLY_RE = re.compile("[百千万亿]+")
_SUBCLAUSE_END_RE = re.compile(r"[，,；;。！？!?：:]")


class _Context:
    """What every target of a document looks up, indexed once so that a target costs O(log n).

    Sentences end at 。！？； or a line break; lines at a line break. Nothing here scans the
    text back from a quantity, so a 200,000-character line costs what the same text with
    line breaks costs.
    """

    def __init__(self, text: str, ordered: Sequence[Span]):
        self.text = text
        self.deadlines = [s for s in ordered if s.label == "DEADLINE"]
        self.deadline_starts = [d.start for d in self.deadlines]
        self.names = [s for s in ordered if s.label in ("PROJECT", "PROGRAM")]
        self.quantity_starts = [s.start for s in ordered if s.label == "QUANTITY"]
        self.name_starts = [n.start for n in self.names]
        self.sentence_starts = [m.start() for m in _SENTENCE_RE.finditer(text) if m.end() > m.start()] or [0]
        self.line_starts = [0, *(m.end() for m in re.finditer(r"\r\n|[\r\n\u2028\u2029]", text))]
        self.colons = [m.start() for m in _COLON_RE.finditer(text)]
        # deadlines that govern a list: a colon follows them in their own sentence (全年…：)
        self.governors = [d for d in self.deadlines if self.colon_between(d.end, self.sentence(d.start)[1])]
        self.governor_starts = [d.start for d in self.governors]

    def _start_of(self, starts: list[int], pos: int) -> int:
        return starts[max(bisect.bisect_right(starts, pos) - 1, 0)]

    def _end_of(self, starts: list[int], pos: int) -> int:
        i = bisect.bisect_right(starts, pos)
        return starts[i] if i < len(starts) else len(self.text)

    def sentence(self, pos: int) -> tuple[int, int]:
        """(start, end) of the sentence containing ``pos``."""
        return self._start_of(self.sentence_starts, pos), self._end_of(self.sentence_starts, pos)

    def line_start(self, pos: int) -> int:
        return self._start_of(self.line_starts, pos)

    def deadlines_between(self, start: int, end: int) -> list[Span]:
        """DEADLINE spans inside [start, end)."""
        i = bisect.bisect_left(self.deadline_starts, start)
        j = bisect.bisect_left(self.deadline_starts, end)
        return [d for d in self.deadlines[i:j] if d.end <= end]

    def colon_between(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.colons, start)
        return i < len(self.colons) and self.colons[i] < end

    def quantity_between(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.quantity_starts, start)
        return i < len(self.quantity_starts) and self.quantity_starts[i] < end

    def names_between(self, start: int, end: int) -> list[Span]:
        i = bisect.bisect_left(self.name_starts, start)
        j = bisect.bisect_left(self.name_starts, end)
        return [n for n in self.names[i:j] if n.end <= end]


def _deadline_of(context: _Context, quantity: Span) -> tuple[Span | None, str | None]:
    """The DEADLINE of a quantity and where it comes from (``sentence`` or ``list``).

    A deadline applies within its sentence: the nearest one before the quantity, else the
    nearest after it. A deadline of an earlier sentence of the same paragraph applies only
    when it governs a list explicitly, with a colon after it in its own sentence
    (``全年主要预期目标是：…；…；…``). Otherwise the target has none.
    """
    start, end = context.sentence(quantity.start)
    same = context.deadlines_between(start, end)
    before = [d for d in same if d.end <= quantity.start]
    if before:
        return before[-1], "sentence"
    after = [d for d in same if d.start >= quantity.end]
    if after:  # 新增城市公园5个，年内全部开放; not 新建学校8所，到2025年建成停车位1万个 (that one is the 1万's)
        stop = _SUBCLAUSE_END_RE.search(context.text, after[0].end, end)
        if not context.quantity_between(after[0].end, stop.start() if stop else end):
            return after[0], "sentence"
    i = bisect.bisect_left(context.governor_starts, start) - 1
    if i >= 0 and context.governors[i].start >= context.line_start(quantity.start):
        return context.governors[i], "list"
    return None, None


def _nearest_name(context: _Context, quantity: Span, end: int, clause: tuple[int, int]) -> Span | None:
    """Nearest PROJECT/PROGRAM inside the clause by character distance; ties go to the earlier one."""
    inside = context.names_between(*clause)

    def distance(n: Span) -> tuple[int, int]:
        return (quantity.start - n.end, 0) if n.end <= quantity.start else (n.start - end, 1)

    return min(inside, key=distance) if inside else None


def _clause_of(bounds: list[tuple[int, int]], starts: list[int], pos: int) -> tuple[int, int]:
    """(start, end) of the clause containing ``pos`` (the one before it when ``pos`` is in a gap)."""
    i = bisect.bisect_right(starts, pos) - 1
    return bounds[max(i, 0)] if bounds else (pos, pos)


def _unit_text(unit: Span | None, percent: bool) -> str | None:
    """The unit as written, full-width forms normalized (％ -> %); ``%`` for 百分之… and 5% in one span."""
    if unit is not None:
        return unicodedata.normalize("NFKC", unit.text)
    return "%" if percent else None


def _make_target(
    text: str, item: _Item, unit: Span | None, comparator: str, clause: tuple[int, int], context: _Context
) -> Target:
    """Build one :class:`Target` from the pieces found for a quantity."""
    quantity = item.quantity
    amount = item.amount or quantity.text
    if unit is not None and unit.start == quantity.end and _MAGNITUDE_ONLY_RE.fullmatch(unit.text):
        amount, unit = amount + unit.text, None  # a magnitude (亿) is never a unit: 54 + 亿 -> 5.4e9, no unit
    try:
        parsed, error = parse_quantity(amount), None
    except ValueError as err:
        parsed, error = None, str(err)
    end = unit.end if unit is not None and unit.start >= quantity.end else quantity.end
    deadline, scope = _deadline_of(context, quantity)
    name = _nearest_name(context, quantity, end, clause)
    return Target(
        quantity=quantity.text,
        value=parsed.value if parsed else None,
        low=parsed.low if parsed else None,
        high=parsed.high if parsed else None,
        unit=_unit_text(unit, parsed is not None and parsed.percent),
        comparator=comparator,
        deadline=deadline.text if deadline else None,
        project=name.text if name else None,
        project_label=name.label if name else None,
        clause_start=clause[0],
        clause_end=clause[1],
        quantity_span=quantity,
        unit_span=unit,
        deadline_span=deadline,
        project_span=name,
        parse_error=error,
        factor=parsed.factor if parsed else None,
        deadline_scope=scope,
    )


def extract_targets(
    text: str, spans: Sequence[Span], max_chars: int | None = None, clauses: Sequence[Clause] | None = None
) -> list[Target]:
    """One :class:`Target` per QUANTITY span of the document, in document order.

    ``spans`` are entity spans in document offsets (gold, rules or model output). The
    document is segmented into clauses with :func:`govreport_ner.text.segment.segment`
    (``max_chars`` as there; entity spans are never cut). The unit is the UNIT written
    directly after the quantity (only whitespace, 余 or 多 between), or, in a list
    joined by 、/和/及/与/或 that writes the unit once (``1万、2万亩``), the next unit in
    the list. The deadline is the nearest DEADLINE in the quantity's sentence, preferring
    one before it, else one of an earlier sentence of the paragraph that governs a list
    with a colon (``deadline_scope``: ``sentence`` or ``list``), else none. The project is
    the nearest PROJECT or PROGRAM in the clause. Indicator, direction, indicator id,
    headline, kind and year: :func:`govreport_ner.extract.indicators.describe_targets`.

    ``clauses`` (the clauses a predictor tagged) are used as they are instead of segmenting.
    """
    ordered = sorted(check_spans(text, spans))
    if clauses is None:
        clauses = segment(text, max_chars, keep_together=[(s.start, s.end) for s in ordered])
    return targets_in_clauses(text, ordered, clauses)


def targets_in_clauses(text: str, ordered: Sequence[Span], clauses: Sequence[Clause]) -> list[Target]:
    """The targets of spans already checked (:func:`govreport_ner.spans.check_spans`) and sorted, in ``clauses``."""
    bounds = [(c.start, c.end) for c in clauses]
    starts = [c.start for c in clauses]
    context = _Context(text, ordered)
    targets, chains = [], []
    for chain in _chains(text, _merge_ranges(text, _items(text, ordered))):
        chain_targets = []
        for index, item in enumerate(chain):
            unit = _shared_unit(chain, index)
            comparator = _chain_comparator(text, chain, index)
            clause = _clause_of(bounds, starts, item.quantity.start)
            chain_targets.append(_make_target(text, item, unit, comparator, clause, context))
        chains.append(chain_targets)
        targets += chain_targets
    return describe_targets(text, chains, document_year=guess_document_year(text))
