"""Model spans snapped to whole numbers, units and names (issue 14 item 4); hand-written clauses."""

from __future__ import annotations

from govreport_ner.extract.snap import snap_spans
from govreport_ner.extract.targets import extract_targets
from govreport_ner.spans import Span


def span(text: str, sub: str, label: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = text.index(sub, start + 1)
    return Span(start, start + len(sub), label, sub)


def spans_of(text: str, *marks: str) -> list[Span]:
    """Spans from ``"substring LABEL"`` marks (first occurrence of each)."""
    return [span(text, *mark.split()) for mark in marks]


def marks(text: str, spans) -> list[tuple[str, str]]:
    return [(s.label, s.text) for s in spans]


def test_a_number_cut_in_two_becomes_one():
    text = "人均收入达到32943元。"
    snapped = snap_spans(text, [span(text, "29", "QUANTITY"), span(text, "43", "QUANTITY"), span(text, "元", "UNIT")])
    assert marks(text, snapped) == [("QUANTITY", "32943"), ("UNIT", "元")]


def test_a_magnitude_is_never_a_unit():
    text = "完成投资54亿元，新增就业1.2万人。"
    snapped = snap_spans(text, spans_of(text, "54 QUANTITY", "亿元 UNIT", "1. QUANTITY", "万 UNIT"))
    assert marks(text, snapped) == [("QUANTITY", "54亿"), ("UNIT", "元"), ("QUANTITY", "1.2万")]
    targets = extract_targets(text, snapped)
    assert [(t.value, t.unit) for t in targets] == [(5_400_000_000, "元"), (12_000, None)]


def test_kilowatt_keeps_its_kilo():
    text = "新增装机35万千瓦。"
    snapped = snap_spans(text, [span(text, "35", "QUANTITY"), span(text, "万千瓦", "UNIT")])
    assert marks(text, snapped) == [("QUANTITY", "35万"), ("UNIT", "千瓦")]


def test_units_cut_in_pieces_are_made_whole():
    text = (
        "港口吞吐量463万标箱，接待游客700万人次，投资806亿元的项目，提高5个百分点，发电246.9亿千瓦时，补贴250万元/亩。"
    )
    spans = spans_of(text, "463万 QUANTITY", "标 UNIT", "箱 UNIT", "700万 QUANTITY", "人 UNIT", "806亿 QUANTITY")
    spans += spans_of(text, "元的 UNIT", "5 QUANTITY", "个 UNIT", "246.9亿 QUANTITY", "千 UNIT", "250万 QUANTITY")
    spans += [span(text, "元", "UNIT", nth=1), span(text, "/", "UNIT"), span(text, "亩", "UNIT")]
    assert [(label, t) for label, t in marks(text, snap_spans(text, spans)) if label == "UNIT"] == [
        ("UNIT", "标箱"),
        ("UNIT", "人次"),
        ("UNIT", "元"),
        ("UNIT", "个百分点"),
        ("UNIT", "千瓦时"),  # 千 of 千瓦时 is no magnitude: the quantity stays 246.9亿
        ("UNIT", "元/亩"),
    ]
    assert ("QUANTITY", "246.9亿") in marks(text, snap_spans(text, spans))


def test_names_that_are_not_names_are_dropped():
    text = "实施城市更新项目，建设产业带，2017年启动的项目。"
    spans = spans_of(text, "城市更新项目 PROJECT", "带 PROJECT", "2017 PROGRAM") + [
        span(text, "项目", "PROJECT", nth=1)
    ]
    assert marks(text, snap_spans(text, spans)) == [("PROJECT", "城市更新项目")]


def test_a_name_gives_up_a_unit_made_whole_and_spans_stay_flat():
    """Found in silver: 千 grown to 千瓦 ran into a name the model started at 瓦."""
    text = "争取沁水华能120万千瓦抽水蓄能项目完成核准，建设3千瓦时光伏电站工程。"
    spans = spans_of(text, "120万 QUANTITY", "千 UNIT", "瓦抽水蓄能项目 PROJECT", "3 QUANTITY")
    spans += [span(text, "千", "UNIT", nth=1), span(text, "瓦时光伏电站工程", "PROJECT")]  # 千瓦时 at its start
    snapped = snap_spans(text, spans)
    assert marks(text, snapped) == [
        ("QUANTITY", "120万"),
        ("UNIT", "千瓦"),
        ("PROJECT", "抽水蓄能项目"),
        ("QUANTITY", "3"),
        ("UNIT", "千瓦时"),
        ("PROJECT", "光伏电站工程"),
    ]
    assert all(a.end <= b.start for a, b in zip(snapped, snapped[1:], strict=False))


def test_a_name_holding_a_unit_is_dropped():
    text = "建设年产50万吨级钢铁项目。"
    spans = spans_of(text, "50万 QUANTITY", "吨 UNIT", "产50万吨级钢铁项目 PROJECT")
    assert marks(text, snap_spans(text, spans)) == [("QUANTITY", "50万"), ("UNIT", "吨")]
    spans = spans_of(text, "吨 UNIT", "年产50万吨级钢铁项目 PROJECT")  # no quantity: the unit alone inside
    assert marks(text, snap_spans(text, spans)) == [("UNIT", "吨")]


def test_names_may_open_or_close_with_a_pair_they_hold():
    """Quoted and bracketed names are names (13% of gold PROGRAM spans start with “); a stray mark is not."""
    text = "深化“放管服”改革，建设保税物流中心（B型），落实《乡村振兴规划》，推进改革”行动。"
    spans = spans_of(
        text, "“放管服”改革 PROGRAM", "保税物流中心（B型） PROJECT", "《乡村振兴规划》 PROGRAM", "推进改革” PROGRAM"
    )
    assert marks(text, snap_spans(text, spans)) == [
        ("PROGRAM", "“放管服”改革"),
        ("PROJECT", "保税物流中心（B型）"),
        ("PROGRAM", "乡村振兴规划"),  # marks around the whole name are left out (annotation spec)
    ]


def test_a_name_cut_before_its_closing_quote_takes_it_in():
    text = "落实新冠病毒感染“乙类乙管”措施，推行“点对点、双管家”供热服务制度。"
    spans = spans_of(text, "新冠病毒感染“乙类乙管 PROGRAM", "点对点、双管家”供热服务制度 PROGRAM")
    assert marks(text, snap_spans(text, spans)) == [
        ("PROGRAM", "新冠病毒感染“乙类乙管”"),
        ("PROGRAM", "“点对点、双管家”供热服务制度"),
    ]


def test_marks_around_the_whole_name_are_left_out():
    text = "落实“双减”，推进“五老”+“好邻居”调解和“九个突破行动”。"
    spans = spans_of(text, "“双减” PROGRAM", "“五老”+“好邻居” PROGRAM", "“九个突破行动 PROGRAM")
    assert marks(text, snap_spans(text, spans)) == [
        ("PROGRAM", "双减"),
        ("PROGRAM", "“五老”+“好邻居”"),  # two quoted parts: the marks stay
        ("PROGRAM", "九个突破行动"),  # closed with the mark that follows, then left without both
    ]


def test_a_footnote_marker_ends_a_name():
    text = "推进“三个三”补短板行动（43），深化住房公积金“四统一”㉙管理体制改革。"
    spans = spans_of(text, "“三个三”补短板行动（43） PROGRAM", "住房公积金“四统一”㉙管理体制改革 PROGRAM")
    assert marks(text, snap_spans(text, spans)) == [
        ("PROGRAM", "“三个三”补短板行动"),
        ("PROGRAM", "住房公积金“四统一”"),
    ]


def test_a_quote_is_not_taken_from_another_span():
    text = "实施招商“一把手”工程。"
    spans = spans_of(text, "招商“一把手 PROGRAM", "”工程 PROJECT")
    assert marks(text, snap_spans(text, spans)) == [("PROGRAM", "招商“一把手")]  # ”工程 is no name: it starts with ”


def test_rule_spans_are_unchanged():
    from govreport_ner.extract.rules import tag_clause

    text = "新建5G基站1,200个，完成投资3000余万元，新增装机2×35万千瓦。"
    spans = tag_clause(text)
    assert snap_spans(text, spans) == sorted(spans)


def test_targets_never_take_a_magnitude_as_unit():
    text = "完成投资54亿。"
    spans = [span(text, "54", "QUANTITY"), span(text, "亿", "UNIT")]
    (target,) = extract_targets(text, spans)
    assert (target.value, target.unit) == (5_400_000_000, None)
