"""What a target measures: indicator words, direction, canonical headline indicator, headline,
plan or result, and year (issue 11).

Every target of :func:`govreport_ner.extract.targets.targets_in_clauses` passes through
:func:`describe_targets`, which reads only the document text around it:

- ``indicator`` (with ``indicator_start``/``indicator_end``): the words before the quantity in
  its sub-clause (after the last ，；：), without the deadline and lead verbs in front
  (今年/完成/力争 …) and without the comparator and direction words behind (增长/控制在/达 …):
  城镇新增就业 in 城镇新增就业4.5万人以上, 新造林 in 完成新造林1万亩. In a list that shares a verb
  (规模以上工业增加值、固定资产投资分别增长6.5%、7.5%), each item gets its own words. A quantity with
  no words of its own in its sub-clause (地区生产总值1000亿元、增长6%) takes those of the
  target before it in the same sentence.
- ``direction``: ``up`` for 增长/提高/提升/增加/上升/扩大/上涨, ``down`` for
  下降/降低/减少/压减/削减/缩减, written between the indicator and the quantity (``direction_span``).
  The value stays as written.
- ``indicator_id``: the first row of ``indicators.tsv`` (data, not code) whose pattern is found
  in the indicator words plus the direction word, whose unit kind fits (``%``/``个百分点`` for
  rates, any other unit for counts) and whose direction is not contradicted.
- ``headline``: the target lies in the paragraph of main targets (主要预期目标是：…, 主要目标是,
  预期目标为, up to the 。 that ends the list).
- ``kind``: ``result`` before the first plan heading of the report (二、2024年工作安排,
  总体要求, 主要任务 …; or the headline paragraph when there is no such heading), ``target`` after.
- ``year``: a year written in the deadline (到2025年 -> 2025; 明年 -> the report's year + 1),
  else the report's year for a target and the year before for a result (``year_source``:
  ``deadline`` or ``document``). The report's year is metadata when given, else guessed from
  the first lines (the date of the session, 2024年政府工作报告, or 一、2023年工作回顾 + 1).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from govreport_ner.spans import Span

TABLE = "indicators.tsv"

UP_WORDS = ("增长", "提高", "提升", "增加", "上升", "扩大", "上涨", "增至", "提高到", "提升至")
DOWN_WORDS = ("下降", "降低", "减少", "压减", "削减", "缩减", "降至", "下降到", "降低到")
_DIRECTION_RE = re.compile("|".join(sorted(map(re.escape, UP_WORDS + DOWN_WORDS), key=len, reverse=True)))

# words between the indicator and its quantity (comparators, direction, "respectively", "on average" …)
_TRAIL_RE = re.compile(
    "(?:分别|年均|平均|同比|比上年|较上年|累计|力争|确保|控制在|保持在|稳定在|稳定|保持|达到|达|为|至|到|在|"
    "突破|超过|不低于|不超过|不少于|不高于|不大于|高于|低于|约|大约|接近|以上|左右|"
    + "|".join(sorted(UP_WORDS + DOWN_WORDS, key=len, reverse=True))
    + r"|\s)+$"
)
_LEAD_RE = re.compile(
    r"(?:\s|以上|左右|以内|以下|去年|上年|过去一年|其中|力争|确保|争取|努力|预计|完成|实现|推动|以及|并|和|及|、|"
    r"(?:到|至|在)?20\d\d年(?:底前|底|前|内)?|今年|全年|明年|年内|年底前)+"
)
_SUBCLAUSE_BREAKS = "，,；;。：:！？!?\r\n"
_ITEM_SEP_RE = re.compile("、|和|及|与")
_MAX_INDICATOR = 24  # characters looked back for an indicator

_HEADLINE_CUE_RE = re.compile(
    r"(?:主要预期目标|主要目标|预期目标|主要指标)(?:任务)?(?:建议)?(?:是|为|如下)?[：:]|(?:主要预期目标|主要目标|预期目标)(?:建议)?(?:是|为)"
)
_HEADING_RE = re.compile(r"^[ \t\u3000]*[一二三四五六七八九十]{1,3}[、.．]([^\n]{0,50})", re.M)
_PLAN_HEADING_RE = re.compile(
    r"(?:今年|明年|20\d\d年).{0,12}(?:工作|安排|目标|任务|要求|部署)|总体要求|主要任务|工作安排|重点工作|目标任务"
)
_REVIEW_HEADING_RE = re.compile(r"回顾|过去|总结|成就|成绩|主要工作完成")
_DATE_RE = re.compile(r"(20\d\d)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
_TITLE_YEAR_RE = re.compile(r"(20\d\d)\s*年[^\n。]{0,20}政府工作报告")
_YEAR_RE = re.compile(r"20\d\d")
_REVIEW_YEAR_RE = re.compile(r"^[ \t\u3000]*(?:[一二三四五六七八九十]{1,3}[、.．])?\s*(20\d\d)年(?:工作)?回顾", re.M)


@dataclass(frozen=True)
class Indicator:
    """One row of the table: a canonical headline indicator."""

    id: str
    unit: str
    direction: str
    pattern: re.Pattern

    def accepts(self, phrase: str, unit: str | None, direction: str | None) -> bool:
        if not self.pattern.search(phrase):
            return False
        if self.direction == "up" and direction == "down" or self.direction == "down" and direction == "up":
            return False
        if self.unit == "%":
            return unit == "%"  # 高于全省1个百分点 is relative, not the rate
        if self.unit == "count":
            return unit is not None and unit not in ("%", "个百分点")
        return unit == self.unit


@cache
def indicator_table() -> tuple[Indicator, ...]:
    """The canonical headline indicators of ``indicators.tsv``, in matching order."""
    text = resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ident, unit, direction, pattern = line.split("\t")
        rows.append(Indicator(ident, unit, direction, re.compile(pattern)))
    return tuple(rows)


INDICATOR_IDS = tuple(row.id for row in indicator_table())


def indicator_id(phrase: str, unit: str | None, direction: str | None = None) -> str | None:
    """The canonical id of an indicator phrase (indicator words + direction word), or None."""
    for row in indicator_table():
        if row.accepts(phrase, unit, direction):
            return row.id
    return None


# --------------------------------------------------------------------------- document structure


def guess_document_year(text: str) -> int | None:
    """The year of the report: the session date or the title in its first lines, else None."""
    head = text[:600]
    for pattern in (_DATE_RE, _TITLE_YEAR_RE):
        m = pattern.search(head)
        if m:
            return int(m.group(1))
    m = _REVIEW_YEAR_RE.search(text, 0, 5000)  # 一、2023年工作回顾: the report of 2024
    return int(m.group(1)) + 1 if m else None


def plan_start(text: str) -> int | None:
    """Offset where the report turns from review to plan: its first plan heading, else its headline cue."""
    for m in _HEADING_RE.finditer(text):
        title = m.group(1)
        if _PLAN_HEADING_RE.search(title) and not _REVIEW_HEADING_RE.search(title):
            return m.start()
    cues = headline_ranges(text)
    return cues[0][0] if cues else None


def headline_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph of main targets: from the cue to the 。 that ends its list."""
    ranges = []
    for m in _HEADLINE_CUE_RE.finditer(text):
        if ranges and m.start() < ranges[-1][1]:
            continue
        stop = text.find("。", m.end(), m.end() + 2000)
        ranges.append((m.start(), stop + 1 if stop >= 0 else min(len(text), m.end() + 2000)))
    return ranges


# --------------------------------------------------------------------------- one list of targets


@dataclass(frozen=True)
class _Words:
    """Indicator words of one target (document offsets) and its direction word."""

    start: int
    end: int
    direction: Span | None
    id_phrase: str  # the words used for the id (a short list item gets the shared tail: 城镇 -> 城镇居民…)


def _subclause_start(text: str, pos: int, floor: int) -> int:
    """Start of the sub-clause containing ``pos``: after the last ，；：。 at most ``_MAX_INDICATOR`` back."""
    start = max(floor, pos - _MAX_INDICATOR)
    for i in range(pos - 1, start - 1, -1):
        if text[i] in _SUBCLAUSE_BREAKS:
            return i + 1
    return start


def _direction(text: str, start: int, end: int) -> Span | None:
    """The last direction word in text[start:end]."""
    found = None
    for m in _DIRECTION_RE.finditer(text, start, end):
        found = m
    if found is None:
        return None
    return Span(found.start(), found.end(), "DIRECTION", found.group())


def _chain_words(text: str, first: int, floor: int, count: int) -> list[_Words] | None:
    """The indicator words of a list of ``count`` quantities whose first starts at ``first``."""
    start = _subclause_start(text, first, floor)
    lead = _LEAD_RE.match(text, start, first)
    start = lead.end() if lead else start
    verb = _DIRECTION_RE.match(text, start, first)  # 压减粗钢产能100万吨: the direction leads
    start = verb.end() if verb else start
    trail = _TRAIL_RE.search(text, start, first)
    end = trail.start() if trail else first
    direction = _direction(text, end, first)
    if direction is None and verb is not None:
        direction = Span(verb.start(), verb.end(), "DIRECTION", verb.group())
    if end <= start:
        return None
    if count == 1:  # 建成投用某学校、新增学位1680个: the item's own words are after the last 、
        cut = text.rfind("、", start, end)
        start = cut + 1 if cut >= 0 and end - cut > 2 else start
    words = [_Words(start, end, direction, text[start:end])]
    if count > 1:
        cuts = [m for m in _ITEM_SEP_RE.finditer(text, start, end)]
        if len(cuts) == count - 1:
            bounds = [start, *(x for m in cuts for x in (m.start(), m.end())), end]
            pieces = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
            last = text[pieces[-1][0] : pieces[-1][1]]
            words = []
            for a, b in pieces:
                phrase = text[a:b]
                if len(phrase) <= 3 and len(last) > 4:
                    phrase += last[2:]  # 城镇和农村居民人均可支配收入: 城镇 -> 城镇居民人均可支配收入
                words.append(_Words(a, b, direction, phrase))
    return words


def _direction_name(span: Span | None) -> str | None:
    if span is None:
        return None
    return "up" if span.text in UP_WORDS else "down"


_LIST_GAP_RE = re.compile(r"\s*(?:及以上|以上|以下|以内|左右)?\s*(?:、|和|及|与)\s*")


def _end_of(target) -> int:
    return target.unit_span.end if target.unit_span is not None else target.quantity_span.end


def _lists(text: str, chains: Sequence[Sequence]) -> list[list]:
    """Chains joined into the lists that share words: 分别增长5.5%以上、6.5%左右 is one list of two."""
    lists: list[list] = []
    for chain in chains:
        if not chain:
            continue
        if lists and _LIST_GAP_RE.fullmatch(text, _end_of(lists[-1][-1]), chain[0].quantity_span.start):
            lists[-1].extend(chain)
        else:
            lists.append(list(chain))
    return lists


def describe_targets(text: str, chains: Sequence[Sequence], document_year: int | None = None) -> list:
    """The targets of ``chains`` (lists of :class:`~govreport_ner.extract.targets.Target` written
    together, in document order) with indicator, direction, indicator id, headline, kind and year."""
    headlines = headline_ranges(text)
    boundary = plan_start(text)
    described = []
    previous = None  # (clause start, words) of the last list with words
    floor = 0
    for chain in _lists(text, chains):
        first = chain[0].quantity_span.start
        words = _chain_words(text, first, max(floor, chain[0].clause_start), len(chain))
        sentence_start = _subclause_start(text, first, chain[0].clause_start)
        if words is None and previous is not None and previous[0] == chain[0].clause_start:
            inherited = previous[1][-1]
            words = [
                _Words(inherited.start, inherited.end, _direction(text, sentence_start, first), inherited.id_phrase)
            ]
        if words is not None:
            previous = (chain[0].clause_start, words)
        for index, target in enumerate(chain):
            own = None if words is None else words[index] if len(words) == len(chain) else words[0]
            described.append(_describe(text, target, own, headlines, boundary, document_year))
        floor = _end_of(chain[-1])
    return described


def _describe(text: str, target, words: _Words | None, headlines, boundary: int | None, document_year: int | None):
    pos = target.quantity_span.start
    direction = words.direction if words is not None else _direction(text, max(0, pos - 4), pos)
    direction_name = _direction_name(direction)
    indicator = text[words.start : words.end] if words is not None else None
    phrase = (words.id_phrase if words is not None else "") + (direction.text if direction is not None else "")
    kind = "target" if boundary is None or pos >= boundary else "result"
    year, source = _year(target.deadline, kind, document_year)
    return dataclasses.replace(
        target,
        indicator=indicator,
        indicator_start=words.start if words is not None else None,
        indicator_end=words.end if words is not None else None,
        indicator_id=indicator_id(phrase, target.unit, direction_name) if phrase else None,
        direction=direction_name,
        direction_span=direction,
        headline=any(a <= pos < b for a, b in headlines),
        kind=kind,
        year=year,
        year_source=source,
    )


def _year(deadline: str | None, kind: str, document_year: int | None) -> tuple[int | None, str | None]:
    if deadline:
        m = _YEAR_RE.search(deadline)
        if m:
            return int(m.group()), "deadline"
        if "明年" in deadline and document_year is not None:
            return document_year + 1, "deadline"
    if document_year is None:
        return None, None
    return (document_year if kind == "target" else document_year - 1), "document"
