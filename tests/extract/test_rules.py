"""govreport_ner.extract.rules: hand-written cases, flat and exact output, and scripts/prelabel.py."""

from __future__ import annotations

import csv
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govreport_ner.extract import rules
from govreport_ner.labels import LABELS
from govreport_ner.spans import Span, find_overlaps
from govreport_ner.text.reader import read_report


def tagged(text: str) -> list[tuple[str, str]]:
    spans = rules.tag_text(text)
    for s in spans:
        assert text[s.start : s.end] == s.text
    return [(s.text, s.label) for s in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("完成新造林1万亩。", [("1万", "QUANTITY"), ("亩", "UNIT")]),
        ("优良天数比例达75%以上。", [("75", "QUANTITY"), ("%", "UNIT")]),
        ("补植补造及退化林修复1.8万亩。", [("1.8万", "QUANTITY"), ("亩", "UNIT")]),
        ("新增城镇就业2000人以上。", [("2000", "QUANTITY"), ("人", "UNIT")]),
        ("投资2.5亿元。", [("2.5亿", "QUANTITY"), ("元", "UNIT")]),
        ("完成1-2家企业改造。", [("1-2", "QUANTITY"), ("家", "UNIT")]),
        ("建成两个养老服务站。", [("两", "QUANTITY"), ("个", "UNIT")]),
        ("10月底前完成。", [("10月底前", "DEADLINE")]),
        ("年底前完成改造。", [("年底前", "DEADLINE")]),
        ("到2025年，实现目标。", [("到2025年", "DEADLINE")]),
        ("争取2025年底前建成。", [("2025年底前", "DEADLINE")]),
        ("打好蓝天保卫战。", [("蓝天保卫战", "PROGRAM")]),
        ("落实“河长制”责任。", [("河长制", "PROGRAM")]),
        ("实施乡村振兴战略。", [("乡村振兴战略", "PROGRAM")]),
        ("开工建设县医院门诊综合楼。", [("县医院门诊综合楼", "PROJECT")]),
    ],
)
def test_hand_written_cases(text, expected):
    assert tagged(text) == expected


def test_pm25_is_not_a_quantity():
    text = "确保PM2.5、PM10分别控制在35微克/立方米、70微克/立方米以下。"
    result = tagged(text)
    assert result == [("35", "QUANTITY"), ("微克/立方米", "UNIT"), ("70", "QUANTITY"), ("微克/立方米", "UNIT")]
    spans = rules.tag_text(text)
    pm = text.index("PM2.5")
    assert not any(s.start < pm + 5 and pm < s.end for s in spans)
    assert tagged("PM2.5平均浓度下降。") == []


@pytest.mark.parametrize(
    "text",
    [
        "庆祝建党100周年。",
        "开展第二轮巡察。",
        "创建4A级景区。",
        "每月10日召开例会。",
        "2022年，全县经济增长。",
        "万元GDP能耗持续下降。",
    ],
)
def test_not_marked(text):
    assert tagged(text) == []


def test_program_name_without_its_verb():
    spans = rules.tag_text("打好蓝天保卫战。")
    assert [(s.start, s.end) for s in spans] == [(2, 7)]
    assert not any(
        s.text.startswith(("打好", "实施", "推进", "落实"))
        for s in rules.tag_text("打好蓝天保卫战，实施乡村振兴战略。")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("新增装机260万千瓦。", [("260万", "QUANTITY"), ("千瓦", "UNIT")]),  # the spec's example, seed 003
        ("新建道路3.5千米。", [("3.5", "QUANTITY"), ("千米", "UNIT")]),
        ("年发电量1000千瓦时。", [("1000", "QUANTITY"), ("千瓦时", "UNIT")]),
        ("新增就业2千人。", [("2千", "QUANTITY"), ("人", "UNIT")]),
    ],
)
def test_magnitude_does_not_eat_the_unit(text, expected):
    """Magnitude characters go with the QUANTITY, but the 千 of 千瓦/千米 belongs to the UNIT."""
    assert tagged(text) == expected


def test_offsets_are_document_offsets_with_crlf():
    text = "一、目标\r\n\r\n完成新造林1万亩。\r\n打好蓝天保卫战；10月底前完成。"
    spans = rules.tag_text(text)
    assert [(s.text, s.label) for s in spans] == [
        ("1万", "QUANTITY"),
        ("亩", "UNIT"),
        ("蓝天保卫战", "PROGRAM"),
        ("10月底前", "DEADLINE"),
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert spans[0].start == text.index("1万")


def test_resolve_overlaps():
    spans = [
        Span(0, 8, "PROJECT", "x"),
        Span(2, 4, "QUANTITY", "q"),
        Span(4, 5, "UNIT", "u"),
        Span(3, 9, "PROGRAM", "p"),
        Span(10, 12, "DEADLINE", "d"),
        Span(10, 14, "DEADLINE", "dd"),
    ]
    kept = rules.resolve_overlaps(spans)
    assert [(s.start, s.end, s.label) for s in kept] == [(2, 4, "QUANTITY"), (4, 5, "UNIT"), (10, 14, "DEADLINE")]
    assert rules.resolve_overlaps([]) == []


def test_seed_files_have_flat_exact_output(repo_root):
    files = sorted((repo_root / "seeds").glob("*.txt"))
    assert len(files) == 5
    for path in files:
        doc = read_report(path)
        spans = rules.tag_text(doc.text)
        assert spans, path.name
        assert find_overlaps(spans) == [], path.name
        assert spans == sorted(spans)
        for s in spans:
            assert s.label in LABELS
            assert 0 <= s.start < s.end <= len(doc.text)
            assert doc.text[s.start : s.end] == s.text, (path.name, s)
            assert s.text == s.text.strip()
        # the same with a clause budget and a CRLF copy of the file
        assert rules.tag_text(doc.text, max_chars=50) == rules.tag_text(doc.text, max_chars=50)
        crlf = doc.text.replace("\n", "\r\n")
        crlf_spans = rules.tag_text(crlf)
        assert [(s.text, s.label) for s in crlf_spans] == [(s.text, s.label) for s in spans]
        assert all(crlf[s.start : s.end] == s.text for s in crlf_spans)


def test_seed_highlights(repo_root):
    """Entities the spec names from the seeds are found by the rules."""
    doc = read_report(repo_root / "seeds" / "000_6c2b147dcb7daec6.txt")
    found = {(s.text, s.label) for s in rules.tag_text(doc.text)}
    for item in [
        ("1万", "QUANTITY"),
        ("亩", "UNIT"),
        ("75", "QUANTITY"),
        ("%", "UNIT"),
        ("蓝天保卫战", "PROGRAM"),
        ("河长制", "PROGRAM"),
    ]:
        assert item in found
    assert ("35", "QUANTITY") in found and ("微克/立方米", "UNIT") in found
    assert not any("PM" in text or text in ("2.5", "10") for text, _ in found)


@given(st.text(alphabet="完成新造林1万亩%。，、；建设项目打好保卫战“”河长制年底前月0259.PM \n", max_size=80))
def test_any_text_gives_flat_exact_spans(text):
    spans = rules.tag_text(text)
    assert find_overlaps(spans) == []
    assert all(text[s.start : s.end] == s.text and s.label in LABELS for s in spans)


# ---------------------------------------------------------------- scripts/prelabel.py


@pytest.mark.slow
def test_prelabel_script(tmp_path, run_script):
    reports = tmp_path / "reports"
    reports.mkdir()
    text_a = "一、生态\r\n完成新造林1万亩。\r\n打好蓝天保卫战。\r\n"
    text_b = "10月底前建成𠮷祥幼儿园，落实“河长制”责任。\n优良天数比例达75%以上。"
    (reports / "a.txt").write_bytes(text_a.encode("utf-8"))
    (reports / "b.txt").write_bytes(text_b.encode("gb18030"))
    (reports / "c.txt").write_bytes(b"\xff\xff")  # unreadable: listed, not fatal
    with (reports / "regions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "file", "region", "province", "prefecture", "level", "year"])
        writer.writerow(["lueyang_2023", "b.txt", "略阳县", "陕西", "汉中市", "county", "2023"])
    output = tmp_path / "tasks" / "pre.json"
    proc = run_script("prelabel.py", f"inputs={reports}", f"output={output}", cwd=tmp_path)
    assert f"wrote 2 tasks with {rules.MODEL_VERSION} predictions" in proc.stdout
    assert "SKIPPED" in proc.stdout and "c.txt" in proc.stdout

    tasks = json.loads(output.read_text(encoding="utf-8"))
    assert [t["data"]["doc_id"] for t in tasks] == ["a", "lueyang_2023"]
    assert [t["data"]["region"] for t in tasks] == ["", "略阳县"]
    assert [t["data"]["text"] for t in tasks] == [text_a, text_b]
    assert all(t["data"]["offset"] == 0 for t in tasks)
    assert tasks[1]["data"]["source"].endswith("b.txt")
    found = []
    for task in tasks:
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == rules.MODEL_VERSION
        assert isinstance(prediction["score"], float)
        for item in prediction["result"]:
            assert (item["from_name"], item["to_name"], item["type"]) == ("label", "text", "labels")
            value = item["value"]
            assert task["data"]["text"][value["start"] : value["end"]] == value["text"]
            found.append((task["data"]["doc_id"], value["text"], value["labels"][0]))
    assert ("a", "1万", "QUANTITY") in found and ("a", "亩", "UNIT") in found
    assert ("a", "蓝天保卫战", "PROGRAM") in found
    assert ("lueyang_2023", "10月底前", "DEADLINE") in found
    assert ("lueyang_2023", "河长制", "PROGRAM") in found
    assert ("lueyang_2023", "75", "QUANTITY") in found
    # offsets count the \r\n of a.txt and the astral 𠮷 of b.txt as one character each
    b_text = text_b
    (program,) = [i for i in tasks[1]["predictions"][0]["result"] if i["value"]["text"] == "河长制"]
    assert program["value"]["start"] == b_text.index("河长制")
    assert not (tmp_path / "reports" / "prelabel.log").exists()


@pytest.mark.slow
def test_prelabel_script_per_paragraph(tmp_path, run_script):
    reports = tmp_path / "r"
    reports.mkdir()
    text = "一、生态\r\n完成新造林1万亩。\r\n\r\n打好蓝天保卫战。"
    (reports / "a.txt").write_text(text, encoding="utf-8", newline="")
    output = tmp_path / "pre.json"
    run_script("prelabel.py", f"inputs={reports / 'a.txt'}", f"output={output}", "per=paragraph", cwd=tmp_path)
    tasks = json.loads(output.read_text(encoding="utf-8"))
    assert [t["data"]["text"] for t in tasks] == ["一、生态", "完成新造林1万亩。", "打好蓝天保卫战。"]
    for task in tasks:
        offset = task["data"]["offset"]
        assert text[offset : offset + len(task["data"]["text"])] == task["data"]["text"]
        for item in task["predictions"][0]["result"]:
            value = item["value"]
            assert task["data"]["text"][value["start"] : value["end"]] == value["text"]
    assert [len(t["predictions"][0]["result"]) for t in tasks] == [0, 2, 1]


def test_merge_with_rules_keeps_model_names_and_rule_amounts():
    from govreport_ner.extract.rules import merge_with_rules
    from govreport_ner.spans import Span

    clause = "完成新造林1万亩，打好蓝天保卫战。"
    model = [Span(5, 6, "QUANTITY", "1"), Span(11, 16, "PROGRAM", "蓝天保卫战"), Span(4, 6, "PROJECT", "林1")]
    merged = merge_with_rules(clause, model)
    assert [(s.label, s.text) for s in merged] == [("QUANTITY", "1万"), ("UNIT", "亩"), ("PROGRAM", "蓝天保卫战")]
