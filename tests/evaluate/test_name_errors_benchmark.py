"""benchmarks/name_errors.py sorts name errors into kinds; the sorting is checked on hand-made spans."""

import importlib.util
from collections import Counter
from pathlib import Path

from govreport_ner.spans import Span

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "name_errors.py"


def _module():
    import sys

    sys.path.insert(0, str(_PATH.parent))
    spec = importlib.util.spec_from_file_location("name_errors", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


name_errors = _module()
GOLD = Span(2, 8, "PROGRAM")


def test_gold_outcomes():
    assert name_errors.gold_outcome(GOLD, [Span(2, 8, "PROGRAM")]) == "exact"
    assert name_errors.gold_outcome(GOLD, [Span(2, 8, "PROJECT")]) == "other_label"
    assert name_errors.gold_outcome(GOLD, [Span(3, 8, "PROGRAM")]) == "boundary"
    assert name_errors.gold_outcome(GOLD, [Span(0, 5, "PROJECT")]) == "boundary_other_label"
    assert name_errors.gold_outcome(GOLD, [Span(8, 10, "PROGRAM")]) == "missed"


def test_prediction_outcomes_and_pooled_f1():
    assert name_errors.prediction_outcome(Span(2, 8, "PROGRAM"), [GOLD]) is None
    assert name_errors.prediction_outcome(Span(4, 9, "PROGRAM"), [GOLD]) == "overlaps_gold"
    assert name_errors.prediction_outcome(Span(9, 12, "PROJECT"), [GOLD]) == "spurious"
    counts = Counter(gold_exact=3, gold_missed=1, pred_spurious=2)
    assert name_errors.pooled_f1(counts) == 2 * 3 / (4 + 5)


def test_min_score_drops_only_low_scored_names():
    assert not name_errors.kept(Span(0, 4, "PROJECT", score=0.4), 0.5)
    assert name_errors.kept(Span(0, 4, "PROJECT", score=0.6), 0.5)
    assert name_errors.kept(Span(0, 2, "QUANTITY", score=0.1), 0.5)
    assert name_errors.kept(Span(0, 4, "PROJECT", score=0.1), None)
