"""Entity scores on hand-made cases equal hand-computed values (and seqeval on the same characters)."""

import pytest

from govreport_ner.evaluate.metrics import confusion, entity_scores, seqeval_scores
from govreport_ner.spans import Span, spans_to_bio

# Clause "a" (20 chars): gold Q(0,2) U(2,3) PROGRAM(5,9) PROJECT(10,14)
# predicted Q(0,2) U(2,3) PROGRAM(5,8) [boundary error] PROGRAM(15,17) [spurious]
# Clause "b" (10 chars): gold DEADLINE(0,3); predicted DEADLINE(0,3)
GOLD = [
    ("a", [Span(0, 2, "QUANTITY"), Span(2, 3, "UNIT"), Span(5, 9, "PROGRAM"), Span(10, 14, "PROJECT")]),
    ("b", [Span(0, 3, "DEADLINE")]),
]
PRED = [
    ("a", [Span(0, 2, "QUANTITY"), Span(2, 3, "UNIT"), Span(5, 8, "PROGRAM"), Span(15, 17, "PROGRAM")]),
    ("b", [Span(0, 3, "DEADLINE")]),
]
LENGTHS = {"a": 20, "b": 10}


def test_strict_scores_by_hand():
    scores = entity_scores(GOLD, PRED)["strict"]
    per = scores["per_label"]
    assert per["QUANTITY"]["f1"] == 1.0 and per["UNIT"]["f1"] == 1.0 and per["DEADLINE"]["f1"] == 1.0
    assert per["PROGRAM"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 2}
    assert per["PROJECT"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    # micro: tp = 3, predicted = 5, gold = 5
    assert scores["micro"]["precision"] == pytest.approx(3 / 5)
    assert scores["micro"]["recall"] == pytest.approx(3 / 5)
    assert scores["micro"]["f1"] == pytest.approx(3 / 5)
    # macro over the five labels: (1 + 1 + 1 + 0 + 0) / 5
    assert scores["macro"]["f1"] == pytest.approx(3 / 5)


def test_partial_scores_by_hand():
    partial = entity_scores(GOLD, PRED)["partial"]
    program = partial["per_label"]["PROGRAM"]
    assert program["precision"] == pytest.approx(1 / 2)  # (5,8) overlaps gold, (15,17) does not
    assert program["recall"] == 1.0  # the one gold PROGRAM is overlapped
    assert program["f1"] == pytest.approx(2 / 3)
    assert partial["micro"]["precision"] == pytest.approx(4 / 5)
    assert partial["micro"]["recall"] == pytest.approx(4 / 5)


def test_strict_scores_equal_seqeval_on_character_bio():
    gold_tags = [spans_to_bio(LENGTHS[k], s) for k, s in GOLD]
    pred_tags = [spans_to_bio(LENGTHS[k], s) for k, s in PRED]
    ours = entity_scores(GOLD, PRED)["strict"]["micro"]
    theirs = seqeval_scores(gold_tags, pred_tags)
    assert theirs["precision"] == pytest.approx(ours["precision"])
    assert theirs["recall"] == pytest.approx(ours["recall"])
    assert theirs["f1"] == pytest.approx(ours["f1"])


def test_confusion_table_by_hand():
    table = confusion(GOLD, PRED)
    assert table["PROGRAM"]["PROGRAM"] == 1  # overlapping, boundary differs
    assert table["PROJECT"]["O"] == 1  # missed
    assert table["O"]["PROGRAM"] == 1  # spurious
    assert table["QUANTITY"]["QUANTITY"] == 1 and table["DEADLINE"]["DEADLINE"] == 1


def test_empty_inputs_score_zero():
    scores = entity_scores([("a", [])], [("a", [])])
    assert scores["strict"]["micro"]["f1"] == 0.0 and scores["strict"]["macro"]["f1"] == 0.0
