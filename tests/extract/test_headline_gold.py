"""The standoff headline-target gold: reading, scoring, and the committed pass A (issue 11 item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govreport_ner.extract.headline_gold import COLUMNS, read_docs, read_gold, score
from govreport_ner.extract.indicators import INDICATOR_IDS

GOLD = Path(__file__).resolve().parents[2] / "annotations" / "headline_targets"


def _rows(*items):
    rows = []
    for doc, ident, value, comparator in items:
        rows.append(
            {"doc": doc, "start": 0, "end": 1, "indicator_id": ident, "value": value, "low": value, "high": value}
            | {"unit": "%", "comparator": comparator}
        )
    return rows


def test_score_counts_the_number_and_comparator():
    gold = _rows(("a", "gdp_growth", 5.0, "~"), ("a", "cpi_growth", 3.0, "~"), ("b", "gdp_growth", 6.0, ">="))
    predicted = _rows(("a", "gdp_growth", 5.0, "~"), ("a", "cpi_growth", 3.0, "<="), ("b", "gdp_growth", 6.0, ">="))
    scores = score(gold, predicted)
    assert scores["micro"]["correct"] == 2
    assert scores["micro"]["precision"] == pytest.approx(2 / 3) and scores["micro"]["recall"] == pytest.approx(2 / 3)
    assert scores["missed"] == [("a", "cpi_growth", 3.0, 3.0, "~")]
    assert scores["per_id"]["gdp_growth"]["f1"] == 1.0


def test_read_gold_names_the_bad_line(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("\t".join(COLUMNS) + "\nx\t1\t2\tgdp_growth\tfive\t5\t5\t%\t~\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"g\.tsv:2"):
        read_gold(path)


def test_committed_pass_a_is_well_formed():
    docs = read_docs(GOLD / "docs.tsv")
    rows = read_gold(GOLD / "pass_a.tsv")
    assert len(docs) >= 30 and {r["doc"] for r in rows} <= set(docs)
    assert {r["indicator_id"] for r in rows} <= set(INDICATOR_IDS)
    assert {r["comparator"] for r in rows} <= {">=", "<=", "~", "="}
    assert all(r["end"] > r["start"] for r in rows)
