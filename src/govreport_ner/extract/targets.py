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
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    """``~`` when 余/多 is written inside the quantity or between it and its unit."""
    gap = text[quantity.end : unit.start] if unit is not None and unit.start >= quantity.end else ""
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

    def to_dict(self) -> dict:
        """Plain dict for JSON output; spans as ``Span.to_dict()`` or ``None``."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in ("quantity_span", "unit_span", "deadline_span", "project_span"):
            d[key] = d[key].to_dict() if d[key] is not None else None
        return d


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


def _line_start(text: str, pos: int) -> int:
    """Offset of the first character of the line (paragraph) containing ``pos``."""
    return text.rfind("\n", 0, pos) + 1


def _nearest_deadline(text: str, quantity: Span, clause: tuple[int, int], deadlines: Sequence[Span]) -> Span | None:
    """Nearest DEADLINE before the quantity in its clause, else after it in the clause,
    else the last one in the preceding clauses of the same line."""
    start, end = clause
    before = [d for d in deadlines if start <= d.start and d.end <= quantity.start]
    if before:
        return max(before, key=lambda d: d.end)
    after = [d for d in deadlines if d.start >= quantity.end and d.end <= end]
    if after:
        return min(after, key=lambda d: d.start)
    line_start = _line_start(text, start)
    earlier = [d for d in deadlines if line_start <= d.start and d.end <= start]
    return max(earlier, key=lambda d: d.end) if earlier else None


def _nearest_name(quantity: Span, end: int, clause: tuple[int, int], names: Sequence[Span]) -> Span | None:
    """Nearest PROJECT/PROGRAM inside the clause by character distance; ties go to the earlier one."""
    inside = [n for n in names if clause[0] <= n.start and n.end <= clause[1]]

    def distance(n: Span) -> tuple[int, int]:
        return (quantity.start - n.end, 0) if n.end <= quantity.start else (n.start - end, 1)

    return min(inside, key=distance) if inside else None


def _clause_of(bounds: list[tuple[int, int]], starts: list[int], pos: int) -> tuple[int, int]:
    """(start, end) of the clause containing ``pos`` (the one before it when ``pos`` is in a gap)."""
    i = bisect.bisect_right(starts, pos) - 1
    return bounds[max(i, 0)] if bounds else (pos, pos)


def _make_target(
    text: str, item: _Item, unit: Span | None, comparator: str, clause: tuple[int, int], context: dict
) -> Target:
    """Build one :class:`Target` from the pieces found for a quantity."""
    quantity = item.quantity
    try:
        parsed, error = parse_quantity(quantity.text), None
    except ValueError as err:
        parsed, error = None, str(err)
    end = unit.end if unit is not None and unit.start >= quantity.end else quantity.end
    deadline = _nearest_deadline(text, quantity, clause, context["deadlines"])
    name = _nearest_name(quantity, end, clause, context["names"])
    unit_text = unit.text if unit is not None else ("%" if parsed is not None and parsed.percent else None)
    return Target(
        quantity=quantity.text,
        value=parsed.value if parsed else None,
        low=parsed.low if parsed else None,
        high=parsed.high if parsed else None,
        unit=unit_text,
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
    the list. The deadline is the nearest DEADLINE in the clause, preferring one before
    the quantity, else the last one in earlier clauses of the same line. The project is
    the nearest PROJECT or PROGRAM in the clause.

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
    context = {
        "deadlines": [s for s in ordered if s.label == "DEADLINE"],
        "names": [s for s in ordered if s.label in ("PROJECT", "PROGRAM")],
    }
    targets = []
    for chain in _chains(text, _items(text, ordered)):
        for index, item in enumerate(chain):
            unit = _shared_unit(chain, index)
            comparator = _chain_comparator(text, chain, index)
            clause = _clause_of(bounds, starts, item.quantity.start)
            targets.append(_make_target(text, item, unit, comparator, clause, context))
    return targets
