"""Inline markup, pass agreement and the gold-consistency checks on hand-made cases."""

import pytest

from govreport_ner.annotation.agreement import MarkupError, disagreements, parse_markup, pass_agreement, to_markup
from govreport_ner.annotation.gold_checks import inconsistent_labels, orphan_units
from govreport_ner.annotation.labelstudio_format import AnnotatedTask
from govreport_ner.spans import Span

TEXT = "完成新造林1万亩，打好蓝天保卫战。"


def task(spans, text=TEXT, doc="d"):
    return AnnotatedTask(doc, doc, "r", text, 0, tuple(spans))


def test_markup_parses_to_exact_offsets_and_back():
    marked = "完成新造林[[QUANTITY|1万]][[UNIT|亩]]，打好[[PROGRAM|蓝天保卫战]]。"
    plain, spans = parse_markup(marked, TEXT)
    assert plain == TEXT
    assert [(s.label, s.text, TEXT[s.start : s.end]) for s in spans] == [
        ("QUANTITY", "1万", "1万"),
        ("UNIT", "亩", "亩"),
        ("PROGRAM", "蓝天保卫战", "蓝天保卫战"),
    ]
    assert to_markup(TEXT, spans) == marked


@pytest.mark.parametrize(
    "marked",
    [
        "完成新造林[[QUANTITY|1万]][[UNIT|亩]]，打好蓝天保卫战",  # lost the final 。
        "完成新造林[[COUNT|1万]]亩，打好蓝天保卫战。",  # unknown label
        "完成新造林[[QUANTITY|1万亩，打好蓝天保卫战。",  # unclosed
    ],
)
def test_markup_errors(marked):
    with pytest.raises(MarkupError):
        parse_markup(marked, TEXT)


def test_agreement_and_disagreements_hand_computed():
    a = [task([Span(5, 7, "QUANTITY", "1万"), Span(7, 8, "UNIT", "亩"), Span(11, 16, "PROGRAM", "蓝天保卫战")])]
    b = [task([Span(5, 7, "QUANTITY", "1万"), Span(7, 8, "UNIT", "亩"), Span(9, 16, "PROGRAM", "打好蓝天保卫战")])]
    scores = pass_agreement(a, b)
    assert scores["strict"]["micro"]["f1"] == pytest.approx(2 / 3)
    assert scores["strict"]["per_label"]["PROGRAM"]["f1"] == 0.0
    assert scores["partial"]["per_label"]["PROGRAM"]["f1"] == 1.0
    rows = disagreements(a, b)
    assert [(r["only_in"], r["text"]) for r in rows] == [("B", "打好蓝天保卫战"), ("A", "蓝天保卫战")]


def test_orphan_unit_detected():
    assert orphan_units(task([Span(7, 8, "UNIT", "亩")])) == [Span(7, 8, "UNIT", "亩")]
    assert orphan_units(task([Span(5, 7, "QUANTITY"), Span(7, 8, "UNIT")])) == []


def test_inconsistent_labels_reports_same_context_differences():
    text = "打好蓝天保卫战。打好蓝天保卫战。打好"
    one = task([Span(2, 7, "PROGRAM", "蓝天保卫战")], text, "x")
    assert [str(x) for x in inconsistent_labels([one])] == ["'蓝天保卫战' is PROGRAM at x:2 but unlabelled at x:10"]
    both = task([Span(2, 7, "PROGRAM", "蓝天保卫战"), Span(10, 15, "PROGRAM", "蓝天保卫战")], text, "x")
    assert inconsistent_labels([both]) == []
