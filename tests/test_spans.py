"""govreport_ner.spans and labels: BIO conversion both ways, overlaps, label checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govreport_ner.labels import BIO_TAGS, CHINESE_NAMES, ID2TAG, LABELS, TAG2ID, is_known_label
from govreport_ner.spans import Span, bio_to_spans, find_overlaps, span_from_text, spans_to_bio

TEXT = "完成新造林1万亩，打好蓝天保卫战。"


def key(spans):
    return [(s.start, s.end, s.label, s.text) for s in spans]


def test_label_scheme():
    assert LABELS == ("QUANTITY", "UNIT", "DEADLINE", "PROJECT", "PROGRAM")
    assert set(CHINESE_NAMES) == set(LABELS)
    assert BIO_TAGS[0] == "O" and len(BIO_TAGS) == 1 + 2 * len(LABELS)
    assert {t.split("-", 1)[1] for t in BIO_TAGS[1:]} == set(LABELS)
    assert all(ID2TAG[TAG2ID[t]] == t for t in BIO_TAGS)
    assert sorted(TAG2ID.values()) == list(range(len(BIO_TAGS)))
    assert is_known_label("UNIT") and not is_known_label("unit") and not is_known_label("B-UNIT")


def test_span_basics():
    span = span_from_text(TEXT, 5, 7, "QUANTITY", 0.5)
    assert span.text == "1万"
    assert span.to_dict() == {"start": 5, "end": 7, "label": "QUANTITY", "text": "1万", "score": 0.5}
    assert span_from_text(TEXT, 7, 8, "UNIT").to_dict() == {"start": 7, "end": 8, "label": "UNIT", "text": "亩"}
    moved = span.shifted(10)
    assert (moved.start, moved.end, moved.label, moved.text, moved.score) == (15, 17, "QUANTITY", "1万", 0.5)
    # equality and order ignore text and score
    assert Span(1, 2, "UNIT", "a", 0.1) == Span(1, 2, "UNIT", "b")
    assert sorted([Span(3, 4, "UNIT"), Span(1, 5, "PROJECT"), Span(1, 2, "UNIT")]) == [
        Span(1, 2, "UNIT"),
        Span(1, 5, "PROJECT"),
        Span(3, 4, "UNIT"),
    ]


def test_spans_to_bio_example():
    spans = [span_from_text(TEXT, 5, 7, "QUANTITY"), span_from_text(TEXT, 7, 8, "UNIT")]
    tags = spans_to_bio(len(TEXT), spans + [span_from_text(TEXT, 11, 16, "PROGRAM")])
    assert tags[4:9] == ["O", "B-QUANTITY", "I-QUANTITY", "B-UNIT", "O"]
    assert tags[11:16] == ["B-PROGRAM"] + ["I-PROGRAM"] * 4
    assert tags.count("O") == len(TEXT) - 8
    assert spans_to_bio(0, []) == []


def test_bio_to_spans_example_and_scores():
    tags = ["O", "B-QUANTITY", "I-QUANTITY", "B-UNIT", "O"]
    spans = bio_to_spans("造1万亩。", tags, scores=[0.0, 0.8, 0.6, 0.9, 0.1])
    assert key(spans) == [(1, 3, "QUANTITY", "1万"), (3, 4, "UNIT", "亩")]
    assert spans[0].score == pytest.approx(0.7) and spans[1].score == pytest.approx(0.9)
    assert all(s.score is None for s in bio_to_spans("造1万亩。", tags))


def test_bio_to_spans_lenient_reading():
    text = "甲乙丙丁戊"
    # a stray I- starts a span; I- of another label starts a new one; B-B gives two spans
    assert key(bio_to_spans(text, ["I-UNIT", "I-UNIT", "O", "O", "O"])) == [(0, 2, "UNIT", "甲乙")]
    assert key(bio_to_spans(text, ["B-UNIT", "I-QUANTITY", "O", "B-UNIT", "B-UNIT"])) == [
        (0, 1, "UNIT", "甲"),
        (1, 2, "QUANTITY", "乙"),
        (3, 4, "UNIT", "丁"),
        (4, 5, "UNIT", "戊"),
    ]
    # a span running to the end of the text is closed
    assert key(bio_to_spans(text, ["O", "O", "O", "B-PROGRAM", "I-PROGRAM"])) == [(3, 5, "PROGRAM", "丁戊")]
    assert bio_to_spans(text, ["O"] * 5) == []


def test_overlaps():
    a, b = Span(0, 4, "PROJECT"), Span(3, 5, "UNIT")
    assert a.overlaps(b) and b.overlaps(a)
    assert not Span(0, 3, "UNIT").overlaps(Span(3, 5, "UNIT"))  # touching is not overlapping
    nested = Span(1, 2, "QUANTITY")
    pairs = find_overlaps([b, nested, a, Span(6, 7, "UNIT")])
    assert pairs == [(a, nested), (a, b)]
    assert find_overlaps([Span(0, 2, "UNIT"), Span(2, 4, "UNIT"), Span(4, 6, "UNIT")]) == []
    assert find_overlaps([Span(0, 2, "UNIT"), Span(0, 2, "QUANTITY")]) == [(Span(0, 2, "QUANTITY"), Span(0, 2, "UNIT"))]


def test_spans_to_bio_rejects_overlap():
    with pytest.raises(ValueError, match="overlaps"):
        spans_to_bio(10, [Span(0, 4, "PROJECT"), Span(3, 5, "UNIT")])
    with pytest.raises(ValueError, match="overlaps"):
        spans_to_bio(10, [Span(2, 4, "UNIT"), Span(2, 4, "QUANTITY")])


@pytest.mark.parametrize("label", ["LOCATION", "unit", "O", ""])
def test_spans_to_bio_rejects_unknown_label(label):
    with pytest.raises(ValueError, match="unknown label"):
        spans_to_bio(10, [Span(0, 2, label)])


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (3, 3), (4, 2), (8, 11)])
def test_spans_to_bio_rejects_spans_outside_or_empty(start, end):
    with pytest.raises(ValueError, match="outside"):
        spans_to_bio(10, [Span(start, end, "UNIT")])


@st.composite
def text_and_spans(draw):
    """A text and non-overlapping spans with random labels (adjacent spans included)."""
    text = draw(st.text(alphabet="完成新造林1万亩，。蓝天保卫战 \n", min_size=0, max_size=60))
    spans, position = [], 0
    while position < len(text) and draw(st.booleans()):
        start = position + draw(st.integers(0, 5))
        if start >= len(text):
            break
        end = draw(st.integers(start + 1, min(len(text), start + 8)))
        spans.append(span_from_text(text, start, end, draw(st.sampled_from(LABELS))))
        position = end
    return text, spans


@given(text_and_spans())
def test_bio_round_trip(case):
    text, spans = case
    tags = spans_to_bio(len(text), spans)
    assert len(tags) == len(text)
    assert set(tags) <= set(BIO_TAGS)
    assert key(bio_to_spans(text, tags)) == key(spans)
    # order of input spans does not matter
    assert spans_to_bio(len(text), list(reversed(spans))) == tags


@given(st.lists(st.sampled_from(BIO_TAGS), max_size=40))
def test_bio_to_spans_any_tags(tags):
    """Any tag sequence reads as flat spans that convert back to an equivalent tag sequence."""
    text = "字" * len(tags)
    spans = bio_to_spans(text, tags)
    assert find_overlaps(spans) == []
    assert all(0 <= s.start < s.end <= len(text) and s.text == text[s.start : s.end] for s in spans)
    inside = {i for s in spans for i in range(s.start, s.end)}
    assert inside == {i for i, t in enumerate(tags) if t != "O"}
    assert key(bio_to_spans(text, spans_to_bio(len(text), spans))) == key(spans)
