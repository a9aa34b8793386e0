"""govreport_ner.text.segment: clause offsets, budgets, protected spans, and nothing lost."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from govreport_ner.text.segment import DEFAULT_MAX_CHARS, Clause, segment


def texts(clauses: list[Clause]) -> list[str]:
    return [c.text for c in clauses]


# ---------------------------------------------------------------- examples


def test_sentence_final_punctuation_ends_clauses():
    text = "第一句。第二句！第三句？第四句；第五句"
    clauses = segment(text)
    assert texts(clauses) == ["第一句。", "第二句！", "第三句？", "第四句；", "第五句"]
    assert [(c.start, c.end) for c in clauses] == [(0, 4), (4, 8), (8, 12), (12, 16), (16, 19)]


def test_ascii_sentence_ends_and_repeated_punctuation():
    assert texts(segment("甲!乙?丙;丁")) == ["甲!", "乙?", "丙;", "丁"]
    assert texts(segment("真的吗？！好。。")) == ["真的吗？！", "好。。"]


def test_commas_do_not_end_clauses_within_budget():
    assert texts(segment("完成新造林1万亩，补植补造1.8万亩、森林抚育0.9万亩。")) == [
        "完成新造林1万亩，补植补造1.8万亩、森林抚育0.9万亩。"
    ]


def test_line_breaks_end_clauses_and_offsets_count_crlf():
    text = "一、目标\r\n完成任务\n二、措施\u2028三"
    clauses = segment(text)
    assert texts(clauses) == ["一、目标", "完成任务", "二、措施", "三"]
    assert [c.start for c in clauses] == [0, 6, 11, 16]
    for c in clauses:
        assert text[c.start : c.end] == c.text


def test_blank_lines_and_surrounding_whitespace_dropped():
    text = "  甲。 \n\n \t \r\n\u3000乙\n\n"
    clauses = segment(text)
    assert clauses == [Clause(2, 4, "甲。"), Clause(text.index("乙"), text.index("乙") + 1, "乙")]
    assert segment("") == []
    assert segment(" \n\r\n\t　\n") == []
    assert segment("。；\n！") == [Clause(0, 2, "。；"), Clause(3, 4, "！")]


def test_long_clause_split_at_commas():
    text = "一二三，四五六、七八九"
    clauses = segment(text, max_chars=4)
    assert texts(clauses) == ["一二三，", "四五六、", "七八九"]
    # the last comma within the budget is used
    assert texts(segment("一，二，三四五六", max_chars=4)) == ["一，二，", "三四五六"]


def test_long_clause_hard_split_without_commas():
    clauses = segment("一二三四五六七", max_chars=3)
    assert texts(clauses) == ["一二三", "四五六", "七"]
    assert [(c.start, c.end) for c in clauses] == [(0, 3), (3, 6), (6, 7)]


def test_default_budget_and_no_budget():
    long = "字" * (DEFAULT_MAX_CHARS + 5)
    assert [len(c.text) for c in segment(long)] == [DEFAULT_MAX_CHARS, 5]
    assert texts(segment(long, max_chars=None)) == [long]


@pytest.mark.parametrize("bad", [0, -3])
def test_budget_must_be_positive(bad):
    with pytest.raises(ValueError, match="max_chars"):
        segment("甲", max_chars=bad)


def test_keep_together_moves_a_hard_cut():
    text = "一二三四五六七八"
    clauses = segment(text, max_chars=4, keep_together=[(2, 5)])
    assert texts(clauses) == ["一二", "三四五六", "七八"]


def test_keep_together_ignores_commas_inside_spans():
    text = "甲乙，丙丁戊己"
    # the only comma (cut at 3) is inside the protected 1..5, and so is the hard cut at 4:
    # the cut falls back to the span start
    clauses = segment(text, max_chars=4, keep_together=[(1, 5)])
    assert texts(clauses) == ["甲", "乙，丙丁", "戊己"]
    assert segment(text, max_chars=4) == [Clause(0, 3, "甲乙，"), Clause(3, 7, "丙丁戊己")]


def test_keep_together_span_longer_than_budget_is_an_error():
    with pytest.raises(ValueError, match="longer than max_chars=3"):
        segment("一二三四五六七八", max_chars=3, keep_together=[(1, 6)])
    # without the budget the same span is fine
    assert texts(segment("一二三四五六七八", max_chars=None, keep_together=[(1, 6)])) == ["一二三四五六七八"]


# ---------------------------------------------------------------- properties

ALPHABET = list("完成新造林万亩建设项目") + list("。！？；，、") + ["\n", "\r\n", " ", "\u3000", "\t"] + list("0123.5")
documents = st.lists(st.sampled_from(ALPHABET), max_size=120).map("".join)
budgets = st.integers(min_value=1, max_value=50)


def check_cover(text: str, clauses: list[Clause], max_chars: int | None) -> None:
    """The properties every segmentation must have."""
    position = 0
    rebuilt = []
    for clause in clauses:
        assert clause.start >= position, "clauses overlap or are out of order"
        assert clause.start < clause.end, "empty clause"
        assert text[clause.start : clause.end] == clause.text
        if max_chars is not None:
            assert len(clause.text) <= max_chars
        gap = text[position : clause.start]
        assert gap.strip() == "", f"non-space text lost in gap {gap!r}"
        rebuilt += [gap, clause.text]
        position = clause.end
    assert text[position:].strip() == "", "non-space text lost after the last clause"
    rebuilt.append(text[position:])
    assert "".join(rebuilt) == text
    # every non-space character is in exactly one clause
    covered = [i for c in clauses for i in range(c.start, c.end)]
    assert len(covered) == len(set(covered))
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= set(covered)


@given(documents, budgets)
def test_segment_covers_the_document(text, max_chars):
    check_cover(text, segment(text, max_chars), max_chars)


@given(documents)
def test_segment_without_budget_covers_the_document(text):
    clauses = segment(text, max_chars=None)
    check_cover(text, clauses, None)
    for c in clauses:
        assert c.text == c.text.strip()
        # a clause has no line break, and sentence-final punctuation only at its end
        assert not any(ch in "\r\n" for ch in c.text)
        body = c.text.rstrip("。！？；")
        assert not any(ch in "。！？；" for ch in body)


@given(documents, budgets)
@example("a，   ，b", 2)
@example("甲乙，\u3000丙丁", 3)
def test_split_pieces_are_trimmed_and_never_blank(text, max_chars):
    for clause in segment(text, max_chars):
        assert clause.text.strip(), f"blank clause {clause}"
        assert clause.text == clause.text.strip(), f"untrimmed clause {clause}"


@st.composite
def protected_case(draw):
    """A document, a budget, and non-overlapping protected spans that each fit the budget."""
    text = draw(documents)
    max_chars = draw(budgets)
    clauses = segment(text, max_chars=None)
    spans = []
    for clause in clauses:
        if not draw(st.booleans()):
            continue
        a = draw(st.integers(clause.start, clause.end - 1))
        b = draw(st.integers(a + 1, min(clause.end, a + max_chars)))
        if text[a].isspace() or text[b - 1].isspace():
            continue
        spans.append((a, b))
    return text, max_chars, spans


@given(protected_case())
def test_keep_together_spans_never_cut(case):
    text, max_chars, spans = case
    clauses = segment(text, max_chars, keep_together=spans)
    check_cover(text, clauses, max_chars)
    for a, b in spans:
        holders = [c for c in clauses if c.start <= a and b <= c.end]
        assert len(holders) == 1, f"span {a}-{b} {text[a:b]!r} was cut: {clauses}"
