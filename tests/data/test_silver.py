"""Silver data: which clauses are kept, the silver file format, and the held-out-region guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from govreport_ner.data.silver import (
    Labeller,
    SilverError,
    SilverPolicy,
    check_labeller,
    load_silver_tasks,
    read_silver,
    silver_clause,
    silver_record,
    trusted_name,
    write_silver,
)
from govreport_ner.spans import Span
from tests.helpers import compose_train, span_of

POLICY = SilverPolicy(
    agree_labels=["QUANTITY", "UNIT", "DEADLINE"],
    name_labels=["PROJECT", "PROGRAM"],
    name_heads=["工程", "行动", "改革"],
    quoted_names=True,
    min_name_chars=4,
    min_name_score=None,
    keep_empty=True,
)
CLAUSE = "年底前实施城市更新行动，新建公园12个。"


def numbers(text: str = CLAUSE):
    return [span_of(text, "年底前", "DEADLINE"), span_of(text, "12", "QUANTITY"), span_of(text, "个", "UNIT")]


def test_a_clause_the_model_and_rules_agree_on_keeps_all_the_model_spans():
    model = [*numbers(), span_of(CLAUSE, "城市更新行动", "PROGRAM")]
    assert silver_clause(CLAUSE, model, numbers(), POLICY) == sorted(model)


def test_a_number_the_taggers_disagree_on_drops_the_whole_clause():
    model = [*numbers(), span_of(CLAUSE, "城市更新行动", "PROGRAM")]
    assert silver_clause(CLAUSE, model, numbers()[:2], POLICY) is None  # the rules miss the UNIT
    assert silver_clause(CLAUSE, model[1:], numbers(), POLICY) is None  # the model misses the DEADLINE


def test_names_must_be_trusted_long_enough_and_quoted_or_headed():
    text = "深化“放管服”改革，推进城市更新和老旧小区提升。"
    assert trusted_name(text, span_of(text, "“放管服”改革", "PROGRAM"), POLICY)
    assert trusted_name(text, span_of(text, "放管服", "PROGRAM"), POLICY) is False  # quoted but 3 characters
    assert trusted_name(text, span_of(text, "放管服”改革", "PROGRAM"), POLICY)  # the quote opens just before it
    untrusted = span_of(text, "老旧小区提升", "PROJECT")  # no head noun of the policy, no quotes
    assert not trusted_name(text, untrusted, POLICY)
    assert silver_clause(text, [untrusted], [], POLICY) is None


def test_a_score_threshold_trusts_confident_names_of_any_ending():
    text = "推进老旧小区提升，建设城市绿道。"
    by_score = SilverPolicy(**{**POLICY.to_dict(), "min_name_score": 0.6, "name_heads": []})
    confident = Span(2, 8, "PROJECT", "老旧小区提升", score=0.7)
    unsure = Span(11, 15, "PROJECT", "城市绿道", score=0.5)
    assert trusted_name(text, confident, by_score) and not trusted_name(text, unsure, by_score)
    assert not trusted_name(text, Span(2, 8, "PROJECT"), by_score)  # no score (the rules): not trusted
    assert silver_clause(text, [confident], [], by_score) == [confident]
    assert silver_clause(text, [confident, unsure], [], by_score) is None


def test_empty_clauses_follow_the_policy():
    assert silver_clause("会议强调。", [], [], POLICY) == []
    no_empty = SilverPolicy(**{**POLICY.to_dict(), "keep_empty": False})
    assert silver_clause("会议强调。", [], [], no_empty) is None


def make_corpus(tmp_path: Path) -> tuple[Path, str]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "各位代表：\n" + CLAUSE + "\n推进乡村振兴。\n"
    (corpus / "a.txt").write_text(text, encoding="utf-8")
    return corpus, text


def silver_file(tmp_path: Path, text: str, held_out=("东兴市",), province="甲省") -> Path:
    start = text.index(CLAUSE)
    record = silver_record(
        "a.txt",
        text,
        "甲市",
        province,
        2024,
        [(start, start + len(CLAUSE), numbers())],
        Labeller("e5+onnx", held_out),
        POLICY,
    )
    return write_silver(tmp_path / "silver" / "a.json", record)


def test_silver_is_standoff_and_rebuilds_from_the_corpus(tmp_path):
    corpus, text = make_corpus(tmp_path)
    path = silver_file(tmp_path, text)
    assert CLAUSE not in path.read_text(encoding="utf-8")  # offsets and a sha256, never the text
    assert read_silver(path)["labeller"] == {"model_version": "e5+onnx", "held_out_regions": ["东兴市"]}
    [task] = load_silver_tasks(path.parent, corpus, held_out_regions=["东兴市"])
    assert task.text == CLAUSE and task.offset == text.index(CLAUSE) and task.province == "甲省"
    assert [(s.text, s.label) for s in task.spans] == [("年底前", "DEADLINE"), ("12", "QUANTITY"), ("个", "UNIT")]


def test_silver_of_a_changed_corpus_text_is_refused(tmp_path):
    corpus, text = make_corpus(tmp_path)
    silver_file(tmp_path, text)
    (corpus / "a.txt").write_text(text.replace("12", "13"), encoding="utf-8")
    with pytest.raises(SilverError, match="sha256"):
        load_silver_tasks(tmp_path / "silver", corpus)


def test_a_run_takes_silver_only_from_a_labeller_held_out_from_its_regions(tmp_path):
    corpus, text = make_corpus(tmp_path)
    path = silver_file(tmp_path, text, held_out=("浚县",))
    with pytest.raises(SilverError, match="trained on held-out region"):
        load_silver_tasks(path.parent, corpus, held_out_regions=["东兴市"])
    assert load_silver_tasks(path.parent, corpus, held_out_regions=None)  # the all-gold model may use any silver
    unknown = silver_file(tmp_path, text, held_out=None)
    with pytest.raises(SilverError, match="unknown"):
        check_labeller(read_silver(unknown), ["东兴市"], unknown)


def test_documents_of_a_held_out_province_are_left_out(tmp_path):
    corpus, text = make_corpus(tmp_path)
    path = silver_file(tmp_path, text, province="广西")
    assert load_silver_tasks(path.parent, corpus, ["东兴市"], held_out_provinces=["广西"]) == []


def test_malformed_silver_is_named(tmp_path):
    corpus, text = make_corpus(tmp_path)
    path = silver_file(tmp_path, text)
    path.write_text(path.read_text(encoding="utf-8").replace('"QUANTITY"', '"AMOUNT"'), encoding="utf-8")
    with pytest.raises(SilverError, match="a.json: bad span"):
        read_silver(path)


def test_silver_leaves_out_the_excerpts_of_the_training_batches_too(tmp_path):
    from govreport_ner.annotation.corpus_gold import read_standoff, standoff_files
    from govreport_ner.commands.silver import labeller_holdout

    data = compose_train(["+experiment=e5_small"]).data
    _, _, excerpts = labeller_holdout(tmp_path / "no-checkpoint", data)
    for folder in (data.corpus_gold, *data.extra_train_gold):
        record = read_standoff(standoff_files(folder)[0])
        assert (record["start"], record["end"]) in excerpts[record["source"]]
