"""Targets: quantity parsing, comparators and grouping, on clauses copied from the seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from govreport_ner.extract.quantities import QuantityValue, parse_quantity
from govreport_ner.extract.targets import Target, extract_targets, read_comparator
from govreport_ner.spans import Span

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

Q, U, D, PJ, PG = "QUANTITY", "UNIT", "DEADLINE", "PROJECT", "PROGRAM"


def spans_in(text: str, marks: list[tuple[str, str]]) -> list[Span]:
    """Spans for ``(label, substring)`` marks listed in text order; each is searched after the previous one."""
    spans, cursor = [], 0
    for label, sub in marks:
        start = text.index(sub, cursor)
        spans.append(Span(start, start + len(sub), label, sub))
        cursor = start + len(sub)
    return spans


def summary(t: Target) -> tuple:
    """The normalized fields a case checks."""
    return (t.quantity, t.value, t.low, t.high, t.unit, t.comparator, t.deadline, t.project)


# ---------------------------------------------------------------- parse_quantity


@pytest.mark.parametrize(
    ("text", "value", "low", "high"),
    [
        ("1.8万", 18000, 18000, 18000),
        ("2.5亿", 250_000_000, 250_000_000, 250_000_000),
        ("2000万", 20_000_000, 20_000_000, 20_000_000),
        ("0.9万", 9000, 9000, 9000),
        ("1.55万", 15500, 15500, 15500),
        ("1.2万亿", 1.2e12, 1.2e12, 1.2e12),
        ("5千", 5000, 5000, 5000),
        ("3百万", 3_000_000, 3_000_000, 3_000_000),
        ("3千万", 30_000_000, 30_000_000, 30_000_000),
        ("1680", 1680, 1680, 1680),
        ("1,200", 1200, 1200, 1200),
        ("１．８万", 18000, 18000, 18000),
        ("１６８０", 1680, 1680, 1680),
        ("1500余", 1500, 1500, 1500),
        ("3-5万", None, 30000, 50000),
        ("1-2", None, 1, 2),
        ("1至2", None, 1, 2),
        ("3～5", None, 3, 5),
        ("3~5", None, 3, 5),
        ("3—5", None, 3, 5),
        ("1万-2万", None, 10000, 20000),
        ("5000-1万", None, 5000, 10000),
        ("两", 2, 2, 2),
        ("三", 3, 3, 3),
        ("十", 10, 10, 10),
        ("十二", 12, 12, 12),
        ("二十五", 25, 25, 25),
        ("一百二十", 120, 120, 120),
        ("一百零五", 105, 105, 105),
        ("五千", 5000, 5000, 5000),
        ("一万二", 12000, 12000, 12000),
        ("两万", 20000, 20000, 20000),
        ("一亿二千万", 120_000_000, 120_000_000, 120_000_000),
        ("一至两", None, 1, 2),
    ],
)
def test_parse_quantity(text: str, value: float | None, low: float, high: float) -> None:
    q = parse_quantity(text)
    assert (q.value, q.low, q.high) == (value, low, high)
    assert q.is_range == (value is None)


def test_parse_quantity_percent_in_text() -> None:
    assert parse_quantity("75%") == QuantityValue(75.0, 75.0, 75.0, percent=True)
    assert parse_quantity("75") == QuantityValue(75.0, 75.0, 75.0, percent=False)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "万", "1,20", "1..2", "十几", "数十", "2-1", "PM2.5", "1-", "-3", "5G", "260万千", "2亿万"],
)
def test_parse_quantity_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="cannot parse quantity"):
        parse_quantity(text)


# ---------------------------------------------------------------- read_comparator


@pytest.mark.parametrize(
    ("clause", "quantity", "unit", "expected"),
    [
        # verbatim from the seeds
        ("优良天数比例达75%以上", "75", "%", ">="),
        ("确保城镇登记失业率控制在4%以内", "4", "%", "<="),
        ("发放创业担保贷款2000万元以上", "2000万", "元", ">="),
        ("完成新造林1万亩", "1万", "亩", "="),
        ("开展“龙沙音乐会”等群众文化活动200场(次)以上", "200", "场", ">="),
        ("规上工业企业万元工业增加值能耗下降3%", "3", "%", "="),
        ("新生儿疾病筛查率达到98%以上", "98", "%", ">="),
        ("打造3部以上精品剧目", "3", "部", ">="),
        # made up, for the words the seeds do not use
        ("粮食产量稳定在50万吨左右", "50万", "吨", "~"),
        ("新增就业约1.2万人", "1.2万", "人", "~"),
        ("农作物秸秆综合利用率不低于90%", "90", "%", ">="),
        ("新增城镇就业超过3000人", "3000", "人", ">="),
        ("签约项目突破100个", "100", "个", ">="),
        ("建成至少5个", "5", "个", ">="),
        ("至少建成5个", "5", "个", "="),  # the word must touch the quantity
        ("单位产值能耗不超过0.5吨", "0.5", "吨", "<="),
        ("PM2.5浓度低于35微克/立方米", "35", "微克/立方米", "<="),
        ("完成营造林近7万亩", "7万", "亩", "~"),
        ("修复1500余亩", "1500", "亩", "~"),
        ("节约用水节约5%", "5", "%", "="),
        ("最近5个", "5", "个", "="),
    ],
)
def test_read_comparator(clause: str, quantity: str, unit: str, expected: str) -> None:
    q, u = spans_in(clause, [(Q, quantity), (U, unit)])
    assert read_comparator(clause, q, u) == expected


def test_read_comparator_without_unit() -> None:
    clause = "各县(市)区建设1-2家普惠托育试点机构"
    (q,) = spans_in(clause, [(Q, "1-2")])
    assert read_comparator(clause, q) == "="


# ---------------------------------------------------------------- extract_targets on seed clauses

CASES = [
    (
        "完成新造林1万亩,补植补造及退化林修复1.8万亩,森林抚育0.9万亩,建设园林村5个,裸露土地生态修复500亩",
        [
            (Q, "1万"),
            (U, "亩"),
            (Q, "1.8万"),
            (U, "亩"),
            (Q, "0.9万"),
            (U, "亩"),
            (Q, "5"),
            (U, "个"),
            (Q, "500"),
            (U, "亩"),
        ],
        [
            ("1万", 10000, 10000, 10000, "亩", "=", None, None),
            ("1.8万", 18000, 18000, 18000, "亩", "=", None, None),
            ("0.9万", 9000, 9000, 9000, "亩", "=", None, None),
            ("5", 5, 5, 5, "个", "=", None, None),
            ("500", 500, 500, 500, "亩", "=", None, None),
        ],
    ),
    (
        "优良天数比例达75%以上",
        [(Q, "75"), (U, "%")],
        [("75", 75, 75, 75, "%", ">=", None, None)],
    ),
    (
        "实施就业优先战略,健全就业促进机制,打好稳就业扩就业政策组合拳,确保城镇登记失业率控制在4%以内",
        [(PG, "就业优先战略"), (Q, "4"), (U, "%")],
        [("4", 4, 4, 4, "%", "<=", None, "就业优先战略")],
    ),
    (
        "确保PM2.5、PM10分别控制在35微克/立方米、70微克/立方米以下",
        [(Q, "35"), (U, "微克/立方米"), (Q, "70"), (U, "微克/立方米")],
        [
            ("35", 35, 35, 35, "微克/立方米", "<=", None, None),
            ("70", 70, 70, 70, "微克/立方米", "<=", None, None),
        ],
    ),
    (
        "实现城镇新增就业4.5万人以上,失业人员再就业3万人以上,困难人员就业7000人以上,登记和调查失业率分别控制在3.5%和6%以下",
        [
            (Q, "4.5万"),
            (U, "人"),
            (Q, "3万"),
            (U, "人"),
            (Q, "7000"),
            (U, "人"),
            (Q, "3.5"),
            (U, "%"),
            (Q, "6"),
            (U, "%"),
        ],
        [
            ("4.5万", 45000, 45000, 45000, "人", ">=", None, None),
            ("3万", 30000, 30000, 30000, "人", ">=", None, None),
            ("7000", 7000, 7000, 7000, "人", ">=", None, None),
            ("3.5", 3.5, 3.5, 3.5, "%", "<=", None, None),
            ("6", 6, 6, 6, "%", "<=", None, None),
        ],
    ),
    (
        "发放创业担保贷款2000万元以上,培训技能和实用人才2000人,新增城镇就业1600人以上,农村劳动力转移就业4.6万人以上",
        [(Q, "2000万"), (U, "元"), (Q, "2000"), (U, "人"), (Q, "1600"), (U, "人"), (Q, "4.6万"), (U, "人")],
        [
            ("2000万", 20_000_000, 20_000_000, 20_000_000, "元", ">=", None, None),
            ("2000", 2000, 2000, 2000, "人", "=", None, None),
            ("1600", 1600, 1600, 1600, "人", ">=", None, None),
            ("4.6万", 46000, 46000, 46000, "人", ">=", None, None),
        ],
    ),
    (
        "坚持就业优先战略,助力企业减负纾困和稳岗就业,发放创业担保贷款2.5亿元",
        [(PG, "就业优先战略"), (Q, "2.5亿"), (U, "元")],
        [("2.5亿", 250_000_000, 250_000_000, 250_000_000, "元", "=", None, "就业优先战略")],
    ),
    (
        "各县(市)区建设1-2家普惠托育试点机构",
        [(Q, "1-2"), (U, "家")],
        [("1-2", None, 1, 2, "家", "=", None, None)],
    ),
    (
        "各级各类服务场所延时开放1-2小时",
        [(Q, "1-2"), (U, "小时")],
        [("1-2", None, 1, 2, "小时", "=", None, None)],
    ),
    (
        "开展“龙沙音乐会”等群众文化活动200场(次)以上",
        [(Q, "200"), (U, "场")],
        [("200", 200, 200, 200, "场", ">=", None, None)],
    ),
    (
        "确保全年完成造林绿化2.6万亩,建成市级以上森林乡村45个",
        [(D, "全年"), (Q, "2.6万"), (U, "亩"), (Q, "45"), (U, "个")],
        [
            ("2.6万", 26000, 26000, 26000, "亩", "=", "全年", None),
            ("45", 45, 45, 45, "个", "=", "全年", None),
        ],
    ),
    (
        "9月底前完成日处理能力450吨生活垃圾转运站及垃圾分类科普教育中心项目",
        [(D, "9月底前"), (Q, "450"), (U, "吨"), (PJ, "生活垃圾转运站及垃圾分类科普教育中心项目")],
        [("450", 450, 450, 450, "吨", "=", "9月底前", "生活垃圾转运站及垃圾分类科普教育中心项目")],
    ),
    (
        "确保年内空气质量优良天数比例达95%以上",
        [(D, "年内"), (Q, "95"), (U, "%")],
        [("95", 95, 95, 95, "%", ">=", "年内", None)],
    ),
    (
        "全年培育高新技术企业10家、科技型中小企业20家、“专精特新”企业5家、“瞪羚”企业2家、市级以上工程技术研究中心8家",
        [
            (D, "全年"),
            (Q, "10"),
            (U, "家"),
            (Q, "20"),
            (U, "家"),
            (Q, "5"),
            (U, "家"),
            (Q, "2"),
            (U, "家"),
            (Q, "8"),
            (U, "家"),
        ],
        [
            ("10", 10, 10, 10, "家", "=", "全年", None),
            ("20", 20, 20, 20, "家", "=", "全年", None),
            ("5", 5, 5, 5, "家", "=", "全年", None),
            ("2", 2, 2, 2, "家", "=", "全年", None),
            ("8", 8, 8, 8, "家", "=", "全年", None),
        ],
    ),
    (
        "实施“城镇社区幸福养老工程”,推进社区居家养老服务,完成200张养老床位建设",
        [(PG, "城镇社区幸福养老工程"), (Q, "200"), (U, "张")],
        [("200", 200, 200, 200, "张", "=", None, "城镇社区幸福养老工程")],
    ),
    (
        "富发电厂向中心城区供热项目建成运营,28万户居民受益",
        [(PJ, "富发电厂向中心城区供热项目"), (Q, "28万"), (U, "户")],
        [("28万", 280000, 280000, 280000, "户", "=", None, "富发电厂向中心城区供热项目")],
    ),
    (
        "推动金源天鹅湖等31个房地产项目投资建设",
        [(PJ, "金源天鹅湖"), (Q, "31"), (U, "个")],
        [("31", 31, 31, 31, "个", "=", None, "金源天鹅湖")],
    ),
    (
        "建成投用吴家营九年制学校、新增学位1680个",
        [(PJ, "吴家营九年制学校"), (Q, "1680"), (U, "个")],
        [("1680", 1680, 1680, 1680, "个", "=", None, "吴家营九年制学校")],
    ),
    (
        "中心城区改造老旧供热、燃气和二次供水管网100公里以上",
        [(Q, "100"), (U, "公里")],
        [("100", 100, 100, 100, "公里", ">=", None, None)],
    ),
    (
        "新建成5G基站20座,5G网络覆盖90%以上行政村",
        [(Q, "20"), (U, "座"), (Q, "90"), (U, "%")],
        [
            ("20", 20, 20, 20, "座", "=", None, None),
            ("90", 90, 90, 90, "%", ">=", None, None),
        ],
    ),
    (
        "改造棚户区3258户、老旧小区94个",
        [(Q, "3258"), (U, "户"), (Q, "94"), (U, "个")],
        [
            ("3258", 3258, 3258, 3258, "户", "=", None, None),
            ("94", 94, 94, 94, "个", "=", None, None),
        ],
    ),
    (
        "规上工业企业万元工业增加值能耗下降3%",
        [(Q, "3"), (U, "%")],
        [("3", 3, 3, 3, "%", "=", None, None)],
    ),
    (
        "争取非法集资存量案件结案80%以上",
        [(Q, "80"), (U, "%")],
        [("80", 80, 80, 80, "%", ">=", None, None)],
    ),
    (
        "完成水土流失治理1.55万亩",
        [(Q, "1.55万"), (U, "亩")],
        [("1.55万", 15500, 15500, 15500, "亩", "=", None, None)],
    ),
]


def _seed_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))


def test_cases_are_verbatim_from_the_seeds() -> None:
    seeds = _seed_text()
    assert len(CASES) >= 15
    missing = [clause for clause, _, _ in CASES if clause not in seeds]
    assert not missing


@pytest.mark.parametrize(("clause", "marks", "expected"), CASES, ids=[c[0][:12] for c in CASES])
def test_extract_targets_on_seed_clauses(clause: str, marks: list, expected: list) -> None:
    spans = spans_in(clause, marks)
    targets = extract_targets(clause, spans)
    assert [summary(t) for t in targets] == expected


@pytest.mark.parametrize(("clause", "marks", "expected"), CASES, ids=[c[0][:12] for c in CASES])
def test_offsets_are_document_offsets(clause: str, marks: list, expected: list) -> None:
    prefix = "前文。\n另一段,没有目标。\n"
    doc = prefix + clause + "。"
    spans = [s.shifted(len(prefix)) for s in spans_in(clause, marks)]
    targets = extract_targets(doc, spans)
    assert [summary(t) for t in targets] == expected
    for t in targets:
        assert (t.clause_start, t.clause_end) == (len(prefix), len(prefix) + len(clause) + 1)
        for span in (t.quantity_span, t.unit_span, t.deadline_span, t.project_span):
            if span is not None:
                assert doc[span.start : span.end] == span.text


def test_shared_unit_in_a_list() -> None:
    clause = "新增高标准农田1万、2万亩"  # made up: one unit written once for two amounts
    spans = spans_in(clause, [(Q, "1万"), (Q, "2万"), (U, "亩")])
    targets = extract_targets(clause, spans)
    unit_start = clause.index("亩")
    assert [(t.value, t.unit, t.unit_span.start) for t in targets] == [
        (10000, "亩", unit_start),
        (20000, "亩", unit_start),
    ]


def test_unit_must_follow_the_quantity() -> None:
    clause = "改造棚户区3258户、老旧小区94个"
    spans = spans_in(clause, [(Q, "3258"), (Q, "94"), (U, "个")])
    first, second = extract_targets(clause, spans)
    assert first.unit is None and first.unit_span is None
    assert second.unit == "个"


def test_deadline_carries_over_within_the_paragraph_only() -> None:
    doc = (
        "今年,区政府将在办好省、市民生实事的基础上,再新增5件:一是推进全区90家基层卫生所医保信息系统全覆盖,"
        "实现群众就医报销不出村。二是高标准建设2个养老服务站\n三是打造30个环境卫生示范村"
    )
    spans = spans_in(
        doc, [(D, "今年"), (Q, "5"), (U, "件"), (Q, "90"), (U, "家"), (Q, "2"), (U, "个"), (Q, "30"), (U, "个")]
    )
    targets = extract_targets(doc, spans)
    assert [(t.quantity, t.deadline) for t in targets] == [("5", "今年"), ("90", "今年"), ("2", "今年"), ("30", None)]
    assert targets[2].deadline_span.start == 0


def test_deadline_prefers_the_one_before() -> None:
    doc = "年底前县医院南院区灾后重建、中医院化验楼等项目全部完工,新增床位200张,明年完成"  # made up after 002
    spans = spans_in(doc, [(D, "年底前"), (PJ, "中医院化验楼"), (Q, "200"), (U, "张"), (D, "明年")])
    (target,) = extract_targets(doc, spans)
    assert target.deadline == "年底前"
    assert target.project == "中医院化验楼"


def test_deadline_after_the_quantity_when_none_before() -> None:
    doc = "确保新增就业5000人,年底前完成"  # made up
    spans = spans_in(doc, [(Q, "5000"), (U, "人"), (D, "年底前")])
    assert extract_targets(doc, spans)[0].deadline == "年底前"


def test_max_chars_split_keeps_lists_and_spans() -> None:
    clause = "确保PM2.5、PM10分别控制在35微克/立方米、70微克/立方米以下"
    spans = spans_in(clause, [(Q, "35"), (U, "微克/立方米"), (Q, "70"), (U, "微克/立方米")])
    targets = extract_targets(clause, spans, max_chars=25)
    assert [(t.value, t.unit, t.comparator) for t in targets] == [(35, "微克/立方米", "<="), (70, "微克/立方米", "<=")]
    assert targets[0].clause_end <= targets[1].clause_start


def test_unparseable_quantity_does_not_stop_the_batch() -> None:
    doc = "建设十几个站点"  # made up
    spans = spans_in(doc, [(Q, "十几"), (U, "个")])
    (target,) = extract_targets(doc, spans)
    assert target.value is None and target.unit == "个"
    assert "cannot parse quantity" in target.parse_error


def test_span_text_is_read_from_the_document() -> None:
    doc = "完成新造林1万亩"
    spans = [Span(5, 7, Q), Span(7, 8, U)]  # no text given, as from a model
    (target,) = extract_targets(doc, spans)
    assert (target.quantity, target.unit, target.value) == ("1万", "亩", 10000)


def test_span_outside_text_raises() -> None:
    with pytest.raises(ValueError, match="outside text"):
        extract_targets("完成1万亩", [Span(2, 9, Q)])


def test_to_dict() -> None:
    doc = "确保年内空气质量优良天数比例达95%以上"
    (target,) = extract_targets(doc, spans_in(doc, [(D, "年内"), (Q, "95"), (U, "%")]))
    d = target.to_dict()
    assert d["quantity"] == "95" and d["value"] == 95 and d["unit"] == "%" and d["comparator"] == ">="
    assert d["deadline"] == "年内" and d["project"] is None and d["parse_error"] is None
    assert d["quantity_span"] == {"start": 15, "end": 17, "label": Q, "text": "95"}
    assert d["unit_span"]["text"] == "%" and d["project_span"] is None
    assert (d["clause_start"], d["clause_end"]) == (0, len(doc))


def test_percent_written_inside_the_quantity() -> None:
    doc = "优良天数比例达75%以上"
    spans = spans_in(doc, [(Q, "75%")])  # a model that swallowed the %
    (target,) = extract_targets(doc, spans)
    assert (target.value, target.unit, target.unit_span, target.comparator) == (75, "%", None, ">=")
