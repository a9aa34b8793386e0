"""Rule-based pre-annotator: Label Studio pre-annotations and the baseline every model must beat.

Rules are deliberately transparent regular expressions over one clause at a time; their
output is a suggestion for an annotator, never gold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from govreport_ner.spans import Span
from govreport_ner.text.segment import segment

MODEL_VERSION = "rules-0.1"

CJK = "\u4e00-\u9fff"
DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?"  # 1,200 (groups of three) or 1200
MAGNITUDE = "(?:千(?![瓦米克伏])|万|亿)*"
HEDGE = "(?:[余多](?=[千万亿]))?"  # 3000余万: a hedge inside the number (8000余人: between number and unit, outside it)
FACTOR = r"(?:\d+\s*[×xX*]\s*)?"  # 2×35万千瓦: a multiplier, part of the quantity
NUMBER = rf"{FACTOR}{DIGITS}(?:{HEDGE}{MAGNITUDE})(?:\s*(?:-|—|~|～|至)\s*{DIGITS}{MAGNITUDE})?"
CHINESE_NUMBER = "[一二两三四五六七八九十百千]+"
# 两百家, 二十亿斤: a Chinese numeral with a magnitude (百千万亿; not 十五条, often a policy's name) and a unit
CHINESE_MAGNITUDE_NUMBER = "(?=[一二两三四五六七八九十零]*[百千万亿])[一二两三四五六七八九十][一二两三四五六七八九十百千万亿零]*(?:点[一二三四五六七八九零]+[万亿]?)?"
PERCENT_WORDS = r"百分之(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百零]+(?:点[一二三四五六七八九零]+)?)"

# Longest first so that 人次 wins over 人 and 个百分点 over 个.
UNITS = sorted(
    """亩 个 人 名 家 所 处 座 项 件 户 张 场次 人次 公里 千米 米 平方米 平方公里 立方米 吨 千瓦 兆瓦 千瓦时 度 元 万元
    微克/立方米 % ％ 个百分点 套 间 栋 条 台 辆 床 张床 艘 株 棵 头 只 批 支 队 期 次 场 天 小时 倍 公顷 千克 斤 所学校
    人/万人 户次 块 座次 盏 眼 口 宗 单 笔 类 种 美元 欧元 港元 标箱 羽 担 部 列 枚 公斤 份 对 起""".split(),
    key=len,
    reverse=True,
)
UNIT_RE = "|".join(re.escape(u) for u in UNITS)

QUANTITY_RE = re.compile(
    rf"(?<![A-Za-z0-9.])(?<!\d,)(?P<q>{NUMBER})\s*(?:[余多]\s*)?(?P<u>{UNIT_RE})?(?!\s*(?:年|月|日|号|周年|级|类|G\b))"
)
CHINESE_MAGNITUDE_RE = re.compile(
    rf"(?<![第{CHINESE_NUMBER[1:-2]}])(?P<q>{CHINESE_MAGNITUDE_NUMBER})(?:[余多])?(?P<u>{UNIT_RE})(?!\s*(?:年|月|日|号|周年|级|类))"
)
PERCENT_WORDS_RE = re.compile(rf"(?P<q>{PERCENT_WORDS})(?P<u>)")
CHINESE_QUANTITY_RE = re.compile(
    rf"(?:建成|新建|建设|打造|完成|新增|培育|创建|改造|实施|开展|举办|引进|招引)(?P<q>{CHINESE_NUMBER})(?P<u>个|所|座|家|项|处|条|场)"
)
NOT_QUANTITY_BEFORE = re.compile(r"(?:PM|第|Ⅲ|GDP|\d\.)$")

DEADLINE_RE = re.compile(
    r"(?:到|至|在)?(?:20\d\d年)(?:\d{1,2}月)?(?:底前|底|前|内)?"
    r"|\d{1,2}月(?:底前|底|前|中旬前|上旬前|下旬前)"
    r"|年底前|年内|全年|今年|明年|上半年|下半年|[一二三四五两]年内|\d年内"
)

HEAD_PROGRAM = "战略|保卫战|攻坚战|攻坚行动|专项行动|行动|计划|工程|改革|制度|体系建设|试点|机制"
TRIGGER = "实施|推进|深化|开展|打好|落实|启动|推行|推广|深入实施|全面推行|扎实推进|持续推进|坚持|抓好|完善"
PROGRAM_RE = re.compile(rf"(?:{TRIGGER})(?P<name>[{CJK}]{{2,10}}?(?:{HEAD_PROGRAM}))(?![{CJK}]*(?:项目))")
QUOTED_RE = re.compile(rf"“(?P<inner>[^”“]{{1,20}})”(?P<head>{HEAD_PROGRAM}|理论|模式|改革)?")
SUFFIX_PROGRAM_RE = re.compile(rf"(?P<name>[{CJK}]{{1,4}}(?:长制|保卫战|攻坚战))")

HEAD_PROJECT = "项目|工程|中心|学校|小学|中学|幼儿园|医院|卫生院|馆|站|楼|园区|产业园|大桥|公路|铁路|水厂|污水处理厂|电厂|基地|广场|公园"
PROJECT_TRIGGER = "建设|新建|建成|开工|续建|推进|实施|完成|启动|改造|改扩建|谋划|加快|投用|竣工"
PROJECT_RE = re.compile(rf"(?:{PROJECT_TRIGGER})(?P<name>[{CJK}\d]{{3,24}}?(?:{HEAD_PROJECT}))(?=[，,、。；;等和及]|$)")


def _quantity_spans(clause: str) -> list[Span]:
    spans = []
    for pattern in (QUANTITY_RE, CHINESE_QUANTITY_RE, CHINESE_MAGNITUDE_RE, PERCENT_WORDS_RE):
        for m in pattern.finditer(clause):
            if NOT_QUANTITY_BEFORE.search(clause[: m.start("q")]):
                continue
            if pattern is QUANTITY_RE and not m.group("u") and not re.search("[万亿]", m.group("q")):
                continue  # a bare number with neither unit nor magnitude is too often an id or a year
            spans.append(Span(m.start("q"), m.end("q"), "QUANTITY", m.group("q")))
            if m.group("u"):
                spans.append(Span(m.start("u"), m.end("u"), "UNIT", m.group("u")))
    return spans


def _deadline_spans(clause: str) -> list[Span]:
    spans = []
    for m in DEADLINE_RE.finditer(clause):
        start = m.start() + (1 if m.group().startswith(("在",)) else 0)
        if re.fullmatch(r"在?20\d\d年", m.group()):
            continue  # a bare year dates an event; "到2025年" is a period
        spans.append(Span(start, m.end(), "DEADLINE", clause[start : m.end()]))
    return spans


def _program_spans(clause: str) -> list[Span]:
    spans = []
    for m in QUOTED_RE.finditer(clause):
        if m.group("head"):
            spans.append(Span(m.start(), m.end(), "PROGRAM", m.group()))
        elif re.search("[行动理论战略工程计划制改革]$|长制", m.group("inner")) or re.fullmatch(
            f"[{CJK}]{{2,4}}", m.group("inner")
        ):
            spans.append(Span(m.start("inner"), m.end("inner"), "PROGRAM", m.group("inner")))
    for pattern in (PROGRAM_RE, SUFFIX_PROGRAM_RE):
        for m in pattern.finditer(clause):
            spans.append(Span(m.start("name"), m.end("name"), "PROGRAM", m.group("name")))
    return spans


def _project_spans(clause: str) -> list[Span]:
    return [Span(m.start("name"), m.end("name"), "PROJECT", m.group("name")) for m in PROJECT_RE.finditer(clause)]


LEADING_NOISE = re.compile(rf"^(?:(?:{TRIGGER}|{PROJECT_TRIGGER}|打好|等|和|及|并|全面|大力|着力|积极|加快)+)")


def _strip_leading_verbs(span: Span) -> Span | None:
    """Names never start with the verb that introduces them (打好|蓝天保卫战, 加快|推进…)."""
    if span.label not in ("PROGRAM", "PROJECT") or span.text.startswith("“"):
        return span
    m = LEADING_NOISE.match(span.text)
    if not m:
        return span
    if len(span.text) - m.end() < 2:
        return None
    return Span(span.start + m.end(), span.end, span.label, span.text[m.end() :])


PRIORITY = {"QUANTITY": 0, "UNIT": 0, "DEADLINE": 1, "PROGRAM": 2, "PROJECT": 3}


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep a flat set: higher-priority labels first, then longer spans, then earlier ones."""
    kept: list[Span] = []
    for span in sorted(set(spans), key=lambda s: (PRIORITY[s.label], -(s.end - s.start), s.start)):
        if not any(span.overlaps(k) for k in kept):
            kept.append(span)
    return sorted(kept)


def tag_clause(clause: str) -> list[Span]:
    """Rule spans for one clause (clause-local offsets)."""
    found = _quantity_spans(clause) + _deadline_spans(clause) + _program_spans(clause) + _project_spans(clause)
    return resolve_overlaps(s for span in found if (s := _strip_leading_verbs(span)))


def tag_text(text: str, max_chars: int | None = None) -> list[Span]:
    """Rule spans for a whole document, in document offsets."""
    spans = []
    for clause in segment(text, max_chars):
        spans += [s.shifted(clause.start) for s in tag_clause(clause.text)]
    return spans


RULE_LABELS_FOR_HYBRID = ("QUANTITY", "UNIT", "DEADLINE")


def merge_with_rules(
    clause: str, model_spans: Iterable[Span], rule_labels: Iterable[str] = RULE_LABELS_FOR_HYBRID
) -> list[Span]:
    """A model+rules hybrid: rule spans for ``rule_labels``, model spans for the other labels.

    Model spans of ``rule_labels`` are dropped, and so are model spans that overlap a kept
    rule span (the rules win where both speak), so the result stays flat.
    """
    rule_labels = set(rule_labels)
    kept = [s for s in tag_clause(clause) if s.label in rule_labels]
    for span in model_spans:
        if span.label not in rule_labels and not any(span.overlaps(k) for k in kept):
            kept.append(span)
    return sorted(kept)
