"""govreport_ner.text.reader: encodings, exact text, and errors that name the file."""

from __future__ import annotations

import codecs
import json

import pytest

from govreport_ner.text.reader import (
    Document,
    ReportReadError,
    decode_report,
    is_jsonl,
    iter_inputs,
    iter_jsonl_documents,
    list_report_files,
    odd_share,
    read_report,
)

TEXT = "一、2023年主要目标\n完成新造林1万亩，优良天数比例达75%以上。\n10月底前建成吴家营九年制学校。\n"
# 𠮷 (U+20BB7, Ext B) and 䶮 (U+4DAE, Ext A) are outside GBK: GB18030 needs four bytes for them.
RARE_TEXT = "𠮷祥路改造工程，刘䶮故里文化园建设。\n全年新增就业2000人。"


def test_utf8(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    doc = read_report(path)
    assert doc == Document("r", TEXT, str(path), "utf-8")


def test_utf8_with_bom_drops_only_the_bom(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    doc = read_report(path)
    assert doc.text == TEXT
    assert not doc.text.startswith("\ufeff")
    assert doc.encoding == "utf-8-sig"
    # offsets index the text without the BOM
    assert doc.text[doc.text.index("1万") : doc.text.index("1万") + 3] == "1万亩"


def test_gb18030_with_characters_outside_gbk(tmp_path):
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("gbk")
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")
    data = RARE_TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test really exercises the fallback
    path = tmp_path / "gb.txt"
    path.write_bytes(data)
    doc = read_report(path)
    assert doc.text == RARE_TEXT
    assert doc.encoding == "gb18030"
    # one str index per character, also for the astral 𠮷
    assert doc.text[0] == "𠮷"
    assert doc.text.index("䶮") == RARE_TEXT.index("䶮")


def test_gbk(tmp_path):
    data = TEXT.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / "gbk.txt"
    path.write_bytes(data)
    doc = read_report(path)
    assert doc.text == TEXT
    assert doc.encoding == "gb18030"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_crlf_kept_exactly(tmp_path, encoding):
    text = "第一段：完成新造林1万亩。\r\n\r\n第二段：打好蓝天保卫战。\r\n"
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.encode(encoding))
    doc = read_report(path)
    assert doc.text == text
    assert doc.text.count("\r\n") == 3
    start = text.index("蓝天保卫战")
    assert start == 13 + 4 + 6  # 13 chars, two \r\n (4 chars), 第二段：打好
    assert doc.text[start : start + 5] == "蓝天保卫战"


def test_doc_id_defaults_to_stem_and_can_be_given(tmp_path):
    path = tmp_path / "002_abc.txt"
    path.write_text("甲。", encoding="utf-8")
    assert read_report(path).id == "002_abc"
    assert read_report(path, doc_id="xunxian_2022").id == "xunxian_2022"


@pytest.mark.parametrize("data", [b"", b"   ", b" \r\n\t\n", b"\n\n\n"], ids=["empty", "spaces", "mixed", "newlines"])
def test_empty_or_whitespace_file_is_an_error_naming_the_file(tmp_path, data):
    path = tmp_path / "blank.txt"
    path.write_bytes(data)
    with pytest.raises(ReportReadError, match="empty") as info:
        read_report(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("data", [codecs.BOM_UTF8, codecs.BOM_UTF8 + b" \r\n"], ids=["bom-only", "bom-whitespace"])
def test_bom_only_file_is_empty(tmp_path, data):
    path = tmp_path / "bom_blank.txt"
    path.write_bytes(data)
    with pytest.raises(ReportReadError, match="empty"):
        read_report(path)


def test_ideographic_space_only_file_is_empty(tmp_path):
    path = tmp_path / "fullwidth.txt"
    path.write_bytes("\u3000\u3000\n".encode())
    with pytest.raises(ReportReadError, match="empty"):
        read_report(path)


def test_undecodable_bytes_error_names_the_file(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\xff\xfe\xff\x00\x81")
    with pytest.raises(ReportReadError) as info:
        read_report(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert "undecodable" in info.value.reason


def test_bom_with_invalid_utf8_is_an_error(tmp_path):
    path = tmp_path / "badbom.txt"
    path.write_bytes(codecs.BOM_UTF8 + "中文".encode("gbk"))
    with pytest.raises(ReportReadError, match="BOM") as info:
        read_report(path)
    assert str(path) in str(info.value)


def test_decode_report_names_the_given_path():
    with pytest.raises(ReportReadError, match=r"^some/where\.txt: "):
        decode_report(b"  ", "some/where.txt")
    assert decode_report("甲".encode(), "x") == ("甲", "utf-8")


def test_read_report_on_a_directory(tmp_path):
    (tmp_path / "a.txt").write_text("甲。", encoding="utf-8")
    with pytest.raises(ReportReadError, match="directory") as info:
        read_report(tmp_path)
    assert info.value.path == str(tmp_path)


def test_read_report_missing_file(tmp_path):
    with pytest.raises(ReportReadError, match="no such file") as info:
        read_report(tmp_path / "missing.txt")
    assert "missing.txt" in str(info.value)


def test_list_report_files_sorted_and_filtered(tmp_path):
    for name in ["b.txt", "a.TXT", "notes.md", "c.json"]:
        (tmp_path / name).write_text("甲。", encoding="utf-8")
    (tmp_path / "sub.txt").mkdir()  # a directory named like a report is not a report
    assert [p.name for p in list_report_files(tmp_path)] == ["a.TXT", "b.txt"]


def test_directory_without_reports_is_an_error(tmp_path):
    (tmp_path / "README.md").write_text("no reports", encoding="utf-8")
    with pytest.raises(ReportReadError, match="no report files") as info:
        list_report_files(tmp_path)
    assert info.value.path == str(tmp_path)
    with pytest.raises(ReportReadError, match="no report files"):
        list(iter_inputs(tmp_path))


def test_list_report_files_missing_directory(tmp_path):
    with pytest.raises(ReportReadError, match="no such directory"):
        list_report_files(tmp_path / "nope")


def test_iter_inputs_yields_errors_without_stopping(tmp_path):
    (tmp_path / "1_good.txt").write_text("完成新造林1万亩。", encoding="utf-8")
    (tmp_path / "2_binary.txt").write_bytes(b"\xff\xff\xff")
    (tmp_path / "3_empty.txt").write_bytes(b"")
    (tmp_path / "4_gb.txt").write_bytes(RARE_TEXT.encode("gb18030"))
    items = list(iter_inputs(tmp_path))
    assert len(items) == 4
    assert isinstance(items[0], Document) and items[0].text == "完成新造林1万亩。"
    assert isinstance(items[1], ReportReadError) and items[1].path.endswith("2_binary.txt")
    assert isinstance(items[2], ReportReadError) and items[2].path.endswith("3_empty.txt")
    assert isinstance(items[3], Document) and items[3].text == RARE_TEXT


def test_iter_inputs_single_file_and_missing_path(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("甲。", encoding="utf-8")
    assert [d.text for d in iter_inputs(path)] == ["甲。"]
    with pytest.raises(ReportReadError, match="no such file"):
        list(iter_inputs(tmp_path / "absent.txt"))
    with pytest.raises(ReportReadError):
        list(iter_inputs(tmp_path / "absent_dir"))


def test_jsonl_valid(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "完成新造林1万亩。\r\n"}, ensure_ascii=False),
        "",
        json.dumps({"text": "打好蓝天保卫战。"}, ensure_ascii=False),
        json.dumps({"id": 7, "text": "𠮷"}, ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert is_jsonl(path) and is_jsonl(tmp_path / "X.JSONL") and not is_jsonl(tmp_path / "x.txt")
    docs = list(iter_inputs(path))
    assert [(d.id, d.text) for d in docs] == [
        ("a", "完成新造林1万亩。\r\n"),
        ("docs-3", "打好蓝天保卫战。"),
        ("7", "𠮷"),
    ]
    assert [d.source for d in docs] == [f"{path}:1", f"{path}:3", f"{path}:4"]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [("{not json", "line 2: invalid JSON"), ('["a list"]', "line 2: expected an object"), ('{"id": "x"}', "line 2")],
)
def test_jsonl_invalid_line_names_file_and_line(tmp_path, bad_line, message):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "a", "text": "甲。"}\n' + bad_line + "\n", encoding="utf-8")
    docs = iter_jsonl_documents(path)
    assert next(docs).text == "甲。"  # lines before the bad one are read
    with pytest.raises(ReportReadError, match=message) as info:
        next(docs)
    assert info.value.path == str(path)


def test_jsonl_undecodable_names_the_file(tmp_path):
    path = tmp_path / "gb.jsonl"
    path.write_bytes(json.dumps({"id": "a", "text": "中文报告"}, ensure_ascii=False).encode("gb18030") + b"\n")
    with pytest.raises(ReportReadError) as info:
        list(iter_inputs(path))
    assert str(path) in str(info.value)


def test_jsonl_with_bom(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + json.dumps({"id": "a", "text": "甲。"}, ensure_ascii=False).encode() + b"\n")
    assert [d.text for d in iter_inputs(path)] == ["甲。"]


@pytest.mark.parametrize("record", [{"id": "n", "text": 5}, {"id": "e", "text": ""}], ids=["number", "empty"])
def test_jsonl_text_must_be_a_non_empty_string(tmp_path, record):
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ReportReadError, match="line 1"):
        list(iter_inputs(path))


# ---------------------------------------------------------------- encodings that used to pass silently (issue 14)

TRADITIONAL = "一、2023年主要目標：完成新造林一萬畝，優良天數比例達75%以上。十月底前建成吳家營九年制學校。\n"


def test_big5_is_decoded_as_big5_not_gb18030_mojibake(tmp_path):
    data = TRADITIONAL.encode("big5")
    data.decode("gb18030")  # GB18030 would take it without an error: the statistics must catch it
    path = tmp_path / "big5.txt"
    path.write_bytes(data)
    doc = read_report(path)
    assert doc.text == TRADITIONAL
    assert doc.encoding == "big5"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded_and_named(tmp_path, codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    path = tmp_path / "u16.txt"
    path.write_bytes(bom + TEXT.encode(codec))
    doc = read_report(path)
    assert doc.text == TEXT
    assert doc.encoding == codec


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded_not_read_as_utf8_with_nuls(tmp_path, codec):
    data = TEXT.encode(codec)
    assert b"\x00" in data and "\x00" in data.decode("utf-8", errors="ignore")  # what was read before
    path = tmp_path / "u16.txt"
    path.write_bytes(data)
    doc = read_report(path)
    assert doc.text == TEXT
    assert "\x00" not in doc.text
    assert doc.encoding == codec


def test_utf16_without_bom_or_ascii_is_decoded(tmp_path):
    text = "完成新造林一万亩，优良天数比例进一步提高。建成吴家营九年制学校。"
    path = tmp_path / "u16.txt"
    path.write_bytes(text.encode("utf-16-le"))
    assert read_report(path).text == text


def test_nul_bytes_in_a_non_utf16_file_are_an_error(tmp_path):
    path = tmp_path / "nul.txt"
    path.write_bytes(TEXT.encode("utf-8") + b"\x00\x01\x02binary")
    with pytest.raises(ReportReadError, match="NUL byte at offset") as info:
        read_report(path)
    assert str(path) in str(info.value)


def test_implausible_characters_are_an_error_not_mojibake(tmp_path):
    # Shift-JIS Japanese: decodes as GB18030 without an error, into rare characters and symbols
    path = tmp_path / "sjis.txt"
    data = "東京都の予算は前年度より増加した。新しい学校を建設する計画です。".encode("shift_jis")
    data.decode("gb18030")
    path.write_bytes(data)
    with pytest.raises(ReportReadError, match="mojibake") as info:
        read_report(path)
    assert str(path) in str(info.value)


def test_real_simplified_text_with_rare_characters_is_plausible():
    assert odd_share(RARE_TEXT) < 0.1
    assert odd_share("中文") is None  # too short to judge
