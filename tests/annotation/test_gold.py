"""Consistency checks over the committed gold (annotations/gold) and its adjudicated source."""

import json
from pathlib import Path

import pytest

from govreport_ner.annotation.agreement import export_tasks, read_pass
from govreport_ner.annotation.gold_checks import inconsistent_labels, orphan_units
from govreport_ner.annotation.labelstudio_format import read_export
from govreport_ner.data.dataset import build_dataset, statistics
from govreport_ner.labels import LABELS
from govreport_ner.spans import find_overlaps
from govreport_ner.text.seeds import load_seed_documents

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seeds():
    return load_seed_documents(ROOT / "seeds")


@pytest.fixture(scope="module")
def gold():
    tasks, report = read_export(ROOT / "annotations" / "gold")
    assert not report.errors and not report.repairs and not report.skipped, report.summary()
    return tasks


def test_gold_covers_every_seed_with_its_exact_text(gold, seeds):
    by_doc = {t.doc_id: t for t in gold}
    assert sorted(by_doc) == sorted(meta.doc_id for _, meta in seeds)
    for document, meta in seeds:
        task = by_doc[meta.doc_id]
        assert task.text == document.text
        assert task.region == meta.region
        assert task.offset == 0


def test_offsets_match_text_labels_known_no_overlaps(gold):
    for task in gold:
        for span in task.spans:
            assert task.text[span.start : span.end] == span.text
            assert span.label in LABELS
            assert span.text == span.text.strip(), f"span with surrounding space {span}"
        assert find_overlaps(task.spans) == []


def test_every_unit_follows_a_quantity(gold):
    # GUIDELINES.md "Known exceptions" lists none.
    assert {t.doc_id: orphan_units(t) for t in gold if orphan_units(t)} == {}


def test_same_string_in_same_context_is_labelled_alike(gold):
    exceptions = inconsistent_labels(gold)
    assert exceptions == [], "\n".join(map(str, exceptions))


def test_gold_is_generated_from_adjudicated_markup(gold, seeds):
    adjudicated = read_pass(ROOT / "annotations" / "adjudicated", seeds)
    assert {t.doc_id: set(t.spans) for t in adjudicated} == {t.doc_id: set(t.spans) for t in gold}


def test_both_raw_passes_are_kept_and_cover_all_seeds(seeds):
    for name in ("pass_a", "pass_b"):
        tasks = read_pass(ROOT / "annotations" / "passes" / name, seeds)
        assert len(tasks) == 5 and all(t.spans for t in tasks)


def test_gold_builds_a_dataset_matching_the_readme_counts(gold):
    stats = statistics(build_dataset(gold))
    measured = json.loads((ROOT / "annotations" / "measured.json").read_text(encoding="utf-8"))
    assert stats == measured["statistics"]
    assert stats["total"]["clauses"] > 250 and sum(stats["total"][label] for label in LABELS) > 400


def test_export_of_adjudicated_tasks_round_trips(seeds, tmp_path):
    adjudicated = read_pass(ROOT / "annotations" / "adjudicated", seeds)
    (tmp_path / "x.json").write_text(json.dumps(export_tasks(adjudicated), ensure_ascii=False), encoding="utf-8")
    tasks, _ = read_export(tmp_path / "x.json")
    assert [set(t.spans) for t in tasks] == [set(t.spans) for t in adjudicated]
