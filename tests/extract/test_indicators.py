"""Target records for panels (issues 11 and 14): number forms, deadlines in their sentence, direction,
indicator words and ids, headline, kind, year, linear time. Sentences are hand-written in the
style of the reports, never copied from the corpus."""

from __future__ import annotations

import time

import pytest

from govreport_ner.extract.indicators import INDICATOR_IDS, guess_document_year, indicator_id
from govreport_ner.extract.quantities import parse_quantity
from govreport_ner.extract.rules import tag_text
from govreport_ner.extract.targets import Target, extract_targets


def targets(text: str) -> list[Target]:
    return extract_targets(text, tag_text(text))


def only(text: str) -> Target:
    found = targets(text)
    assert len(found) == 1, [t.quantity for t in found]
    return found[0]


# ---------------------------------------------------------------- number forms (issue 14 item 2)


NUMBER_FORMS = """
帮助8000余人实现家门口就业。 | 8000 | 人 | ~
完成老旧小区改造3万余户。 | 30000 | 户 | ~
新增公共停车泊位1,200个。 | 1200 | 个 | =
新引进规上企业两百家。 | 200 | 家 | =
粮食产量稳定在二十亿斤以上。 | 2000000000 | 斤 | >=
森林覆盖率提高百分之二十五。 | 25 | % | =
一般公共预算收入增长５％。 | 5 | % | =
建成海上风电2×35万千瓦。 | 700000 | 千瓦 | =
外贸进出口总额达到120亿美元。 | 12000000000 | 美元 | =
港口集装箱吞吐量突破50万标箱。 | 500000 | 标箱 | >=
完成土地整治投资3000余万元。 | 30000000 | 元 | ~
城镇新增就业85万人。 | 850000 | 人 | =
粮食总产稳定在900亿斤。 | 90000000000 | 斤 | =
"""


@pytest.mark.parametrize("row", NUMBER_FORMS.strip().splitlines())
def test_number_forms(row):
    text, value, unit, comparator = (cell.strip() for cell in row.split("|"))
    t = only(text)
    assert (t.value, t.unit, t.comparator) == (float(value), unit, comparator)


def test_multiplier_records_its_factor():
    t = only("建成海上风电2×35万千瓦。")
    assert t.factor == 2 and t.quantity == "2×35万"
    assert parse_quantity("3×10").factor == 3 and parse_quantity("10").factor is None


def test_range_and_shared_hedge():
    t = only("地区生产总值增长6-6.5%。")
    assert (t.value, t.low, t.high) == (None, 6, 6.5)
    both = targets("规模以上工业增加值、固定资产投资分别增长6.2%、7.3%左右。")
    assert [(t.value, t.comparator) for t in both] == [(6.2, "~"), (7.3, "~")]
    assert only("城镇调查失业率控制在5.5%左右。").comparator == "~"


# ---------------------------------------------------------------- deadlines (issue 14 item 1)


def test_deadline_from_its_own_sentence_only():
    text = "年底前建成污水处理厂2座。新建城市绿道30公里，改造供水管网12公里。"
    found = targets(text)
    assert found[0].deadline == "年底前" and found[0].deadline_scope == "sentence"
    assert found[0].deadline_span.start == 0 and found[0].deadline_span.end == 3
    assert [t.deadline for t in found[1:]] == [None, None]


def test_deadline_after_the_quantity_in_its_sentence():
    t = only("新增城市公园5个，年内全部开放。")
    assert t.deadline == "年内" and t.deadline_scope == "sentence"


def test_deadline_governs_a_colon_list_within_its_paragraph():
    text = "全年主要目标是：新建学校3所；新增床位500张。\n新建公厕20座。"
    found = targets(text)
    assert [(t.deadline, t.deadline_scope) for t in found] == [("全年", "sentence"), ("全年", "list"), (None, None)]


def test_far_deadline_is_not_taken():
    filler = "坚持稳中求进，" * 40
    text = f"今年要{filler}推动各项工作落地见效。{filler}新建天气雷达1部。"
    assert only(text).deadline is None


# ---------------------------------------------------------------- direction (issue 14 item 3)


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("单位地区生产总值能耗下降3%。", "down"),
        ("化肥使用量降低5%。", "down"),
        ("农药使用量减少8%。", "down"),
        ("压减粗钢产能100万吨。", "down"),
        ("地区生产总值增长5%左右。", "up"),
        ("城镇化率提高1.2个百分点。", "up"),
        ("城镇调查失业率控制在5.5%以内。", None),
    ],
)
def test_direction(text, direction):
    t = only(text)
    assert t.direction == direction
    assert t.value > 0  # the value stays as written


# ---------------------------------------------------------------- indicator words (issue 11 item 1)


@pytest.mark.parametrize(
    ("text", "indicator"),
    [
        ("城镇新增就业4.5万人以上。", "城镇新增就业"),
        ("完成新造林1万亩。", "新造林"),
        ("优良天数比例达75%以上。", "优良天数比例"),
        ("地区生产总值增长5%左右。", "地区生产总值"),
    ],
)
def test_indicator_words_and_offsets(text, indicator):
    t = only(text)
    assert t.indicator == indicator
    assert text[t.indicator_start : t.indicator_end] == indicator


def test_each_list_item_gets_its_own_words():
    found = targets("规模以上工业增加值、固定资产投资分别增长6.1%、7.4%。")
    assert [t.indicator for t in found] == ["规模以上工业增加值", "固定资产投资"]
    assert [t.indicator_id for t in found] == ["industrial_value_added_growth", "fixed_asset_investment_growth"]


def test_a_quantity_without_words_takes_those_before_it():
    found = targets("全市地区生产总值达到1200亿元、增长6%。")
    assert [t.indicator for t in found] == ["全市地区生产总值", "全市地区生产总值"]
    assert [t.indicator_id for t in found] == [None, "gdp_growth"]


# ---------------------------------------------------------------- indicator ids (issue 11 item 2): a table test


ID_CASES = [
    ("gdp_growth", "地区生产总值增长5%左右。"),
    ("gdp_growth", "全省生产总值增长5.5%。"),
    ("gdp_growth", "经济增长6%左右。"),
    ("gdp_growth", "GDP增长5%以上。"),
    ("industrial_value_added_growth", "规模以上工业增加值增长7%。"),
    ("industrial_value_added_growth", "规上工业增加值增长8%左右。"),
    ("fixed_asset_investment_growth", "固定资产投资增长6%。"),
    ("fixed_asset_investment_growth", "全社会固定资产投资增长8%以上。"),
    ("retail_sales_growth", "社会消费品零售总额增长6.5%。"),
    ("foreign_trade_growth", "进出口总额增长5%。"),
    ("foreign_trade_growth", "外贸进出口增长3%左右。"),
    ("general_budget_revenue_growth", "一般公共预算收入增长4%。"),
    ("general_budget_revenue_growth", "地方一般公共预算收入同比增长5%。"),
    ("urban_unemployment_rate", "城镇调查失业率控制在5.5%以内。"),
    ("new_urban_jobs", "城镇新增就业4.5万人以上。"),
    ("new_urban_jobs", "新增城镇就业3万人。"),
    ("cpi_growth", "居民消费价格涨幅3%左右。"),
    ("cpi_growth", "居民消费价格指数控制在103%左右。"),
    ("resident_income_growth", "居民人均可支配收入增长6%。"),
    ("resident_income_growth", "全体居民人均可支配收入增长5.5%左右。"),
    ("urban_income_growth", "城镇居民人均可支配收入增长5%。"),
    ("rural_income_growth", "农村居民人均可支配收入增长7%。"),
    ("grain_output", "粮食产量稳定在100万吨以上。"),
    ("grain_output", "粮食总产量保持在50亿斤以上。"),
    ("energy_intensity_reduction", "单位地区生产总值能耗降低2.5%。"),
    ("energy_intensity_reduction", "单位GDP能耗下降3%。"),
    ("carbon_intensity_reduction", "单位地区生产总值二氧化碳排放降低3.2%。"),
    ("rd_intensity", "研发经费投入强度达到2.6%。"),
    ("rd_intensity", "全社会研发经费支出占地区生产总值比重达2.5%。"),
    ("pm25_concentration", "细颗粒物年均浓度控制在35微克/立方米以下。"),
    ("pm25_concentration", "PM2.5平均浓度降至30微克/立方米。"),
    ("good_air_days_ratio", "空气质量优良天数比例达到85%以上。"),
    ("good_air_days_ratio", "优良天数比例保持在90%。"),
]


def test_the_table_covers_every_id():
    assert set(INDICATOR_IDS) == {case[0] for case in ID_CASES}
    assert len(INDICATOR_IDS) == 18


@pytest.mark.parametrize(("ident", "text"), ID_CASES)
def test_indicator_id(ident, text):
    assert only(text).indicator_id == ident


@pytest.mark.parametrize(
    "text",
    [
        "研发经费投入增长10%。",  # R&D spending growth is not its share of GDP
        "地区生产总值达到1500亿元。",  # a level, not a growth rate
        "城镇居民人均可支配收入达到5万元。",
        "服务业增加值增长6%。",
        "城镇登记失业率控制在4%以内。",  # registered, not surveyed unemployment
    ],
)
def test_no_indicator_id(text):
    assert only(text).indicator_id is None


def test_urban_and_rural_incomes_in_one_list():
    found = targets("城镇和农村居民人均可支配收入分别增长5.2%和7.1%。")
    assert [t.indicator_id for t in found] == ["urban_income_growth", "rural_income_growth"]


def test_indicator_id_function():
    assert indicator_id("地区生产总值增长", "%", "up") == "gdp_growth"
    assert indicator_id("地区生产总值增长", "元", "up") is None


# ---------------------------------------------------------------- headline, kind, year (issue 11 item 3)

REPORT = """各位代表：
一、2023年工作回顾
过去一年，全市地区生产总值增长6.2%，城镇新增就业5.1万人。
二、2024年总体要求和主要目标
今年本市发展的主要预期目标是：地区生产总值增长5.5%左右，城镇新增就业5万人以上，单位地区生产总值能耗降低2%。
三、2024年重点工作
新建中小学8所，到2025年建成智慧停车位1万个。
"""


def test_headline_kind_year():
    found = targets(REPORT)
    rows = [(t.quantity, t.kind, t.headline, t.year, t.indicator_id) for t in found]
    assert rows == [
        ("6.2", "result", False, 2023, "gdp_growth"),
        ("5.1万", "result", False, 2023, "new_urban_jobs"),
        ("5.5", "target", True, 2024, "gdp_growth"),
        ("5万", "target", True, 2024, "new_urban_jobs"),
        ("2", "target", True, 2024, "energy_intensity_reduction"),
        ("8", "target", False, 2024, None),
        ("1万", "target", False, 2025, None),
    ]
    assert found[-1].year_source == "deadline" and found[0].year_source == "document"


def test_document_year():
    assert guess_document_year(REPORT) == 2024
    assert guess_document_year("——2019年1月8日在市第十五届人民代表大会第四次会议上") == 2019
    assert guess_document_year("各位代表：现在我代表市人民政府报告工作。") is None


def test_every_target_has_the_new_fields():
    for t in targets(REPORT):
        d = t.to_dict()
        for key in ("indicator", "indicator_id", "direction", "headline", "kind", "year"):
            assert key in d


# ---------------------------------------------------------------- linear time (issue 14 item 5)


def test_a_long_line_costs_what_the_same_text_with_line_breaks_costs():
    sentence = "年内新建5G基站1200个，改造老旧小区3万余户，城镇新增就业4.5万人以上；完成新造林1万亩。"
    one_line = sentence * (60_000 // len(sentence))
    broken = one_line.replace("。", "。\n")

    def cost(text: str) -> float:
        spans = tag_text(text)
        start = time.perf_counter()
        found = extract_targets(text, spans)
        elapsed = time.perf_counter() - start
        assert len(found) == 4 * text.count("。")
        return elapsed

    cost(sentence * 20)  # warm up
    assert cost(one_line) < 3 * cost(broken) + 0.5


def test_a_list_with_its_own_hedges_still_shares_its_words():
    found = targets("城镇和农村居民人均可支配收入分别增长5.4%以上、6.6%左右。")
    assert [(t.indicator_id, t.comparator) for t in found] == [
        ("urban_income_growth", ">="),
        ("rural_income_growth", "~"),
    ]
    found = targets("规上固定资产投资、工业投资分别增长12%以上和14%以上。")
    assert [t.indicator_id for t in found] == ["fixed_asset_investment_growth", None]
    assert [t.indicator for t in found] == ["规上固定资产投资", "工业投资"]


def test_a_range_with_the_unit_on_both_ends():
    t = only("规模以上工业增加值增长6%-7%。")
    assert (t.value, t.low, t.high, t.unit, t.indicator_id) == (None, 6, 7, "%", "industrial_value_added_growth")
    t = only("新建口袋公园3个至5个。")
    assert (t.low, t.high, t.unit, t.parse_error) == (3, 5, "个", None)


def test_predict_csv_has_the_new_columns(tmp_path):
    import csv

    from govreport_ner.predict.writers import CsvWriter
    from govreport_ner.text.reader import Document

    doc = Document("d", REPORT, "d.txt", "utf-8")
    found = targets(REPORT)
    line = CsvWriter().partial_line(doc, {"targets": [t.to_dict() for t in found]}, "rules", [])
    path = tmp_path / "p.csv"
    from govreport_ner.predict.writers import CSV_COLUMNS

    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([CSV_COLUMNS, *line["rows"]])
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["indicator_id"] for r in rows if r["headline"] == "True"] == [
        "gdp_growth",
        "new_urban_jobs",
        "energy_intensity_reduction",
    ]
    assert {r["kind"] for r in rows} == {"result", "target"}


def test_a_single_quantity_after_a_list_of_words_takes_the_last_item():
    assert only("建成投用城东九年制学校、新增学位1680个。").indicator == "新增学位"
