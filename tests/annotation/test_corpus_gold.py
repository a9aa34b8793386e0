"""Corpus excerpts and standoff gold, on a small made-up corpus built in tmp_path (no corpus text)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from govreport_ner.annotation.corpus_gold import (
    CorpusMismatchError,
    StandoffError,
    excerpt_from_data,
    excerpt_task_data,
    load_corpus_gold,
    markup_records,
    read_standoff,
    standoff_record,
    task_record,
    write_standoff,
)
from govreport_ner.annotation.excerpts import (
    line_spans,
    plan_kinds,
    read_excerpts_csv,
    sample_excerpts,
    sha256_text,
    write_excerpts_csv,
)
from govreport_ner.data.dataset import province_folds
from govreport_ner.data.gold import GoldSettings, load_gold_dataset, load_gold_splits, resolve_holdout
from govreport_ner.spans import Span

ROOT = Path(__file__).resolve().parents[2]
PROVINCES = ["甲省", "乙省", "丙省", "丁省", "戊省", "己省"]


def report_text(i: int) -> str:
    """A made-up report: review, headline targets, tasks with deadlines, practical projects."""
    review = "".join(f"过去一年第{i}地完成投资{j}亿元，新建学校{j}所。\n" for j in range(1, 30))
    head = f"今年主要预期目标是：地区生产总值增长{i % 3 + 5}%左右，城镇新增就业{i}万人。\n"
    tasks = "".join(f"推进第{j}项改革，年底前完成{j}个园区建设。\n" for j in range(1, 30))
    projects = "".join(f"办好民生实事，建设第{j}号公园，年内建成{j}处驿站。\n" for j in range(1, 30))
    return "各位代表：\n一、工作回顾\n" + review + head + "二、重点工作\n" + tasks + projects


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    rows = ["file\tregion\tprovince\tyear\tcharacters\tnote"]
    for i in range(12):
        text = report_text(i)
        (folder / f"r{i:02d}.txt").write_text(text, encoding="utf-8")
        note = "truncated: only the review" if i == 11 else ""
        rows.append(f"r{i:02d}.txt\t{i}号市\t{PROVINCES[i % 6]}\t2024\t{len(text)}\t{note}")
    (folder / "INDEX.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def sample(corpus: Path, **kwargs):
    args = dict(n=8, seed=3, target_chars=300, max_chars=400, exclude_notes=["truncated"])
    return sample_excerpts(corpus, **(args | kwargs))


def test_sampler_is_deterministic_one_region_each_every_province(corpus):
    first, second = sample(corpus), sample(corpus)
    assert first == second
    assert len({e.region for e in first}) == len(first) == 8
    assert {e.province for e in first} == set(PROVINCES)
    assert all(e.source != "r11.txt" for e in first)  # excluded by its defect note
    assert sample(corpus, seed=4) != first


def test_excerpts_are_whole_lines_with_their_sha256(corpus):
    for e in sample(corpus):
        text = (corpus / e.source).read_text(encoding="utf-8")
        assert e.start == 0 or text[e.start - 1] == "\n"
        assert e.end == len(text) or text[e.end] == "\n"
        assert 150 <= e.end - e.start <= 400
        assert sha256_text(text[e.start : e.end]) == e.sha256


def test_planned_mix_of_passage_kinds(corpus):
    excerpts = sample(corpus, mix={"headline": 2, "review": 2, "tasks": 2, "projects": 2})
    kinds = {e.kind: [] for e in excerpts}
    for e in excerpts:
        kinds[e.kind].append((corpus / e.source).read_text(encoding="utf-8")[e.start : e.end])
    assert {k: len(v) for k, v in kinds.items()} == {"headline": 2, "review": 2, "tasks": 2, "projects": 2}
    assert all("主要预期目标" in t for t in kinds["headline"])
    assert all("民生实事" in t for t in kinds["projects"])
    assert all("过去一年" in t for t in kinds["review"])
    assert plan_kinds(5, {"headline": 1, "tasks": 1}) == ["headline", "headline", "headline", "tasks", "tasks"]


def test_long_lines_are_cut_at_sentence_ends():
    text = "短行。\n" + "甲乙丙丁。" * 100 + "\n尾"
    spans = line_spans(text, max_chars=50)
    assert spans[0] == (0, 3)
    assert all(text[e - 1] in "。丁尾" for _, e in spans)
    assert "".join(text[s:e] for s, e in spans) == text.replace("\n", "")


def test_excerpts_csv_round_trip(corpus, tmp_path):
    excerpts = sample(corpus)
    write_excerpts_csv(excerpts, tmp_path / "excerpts.csv")
    assert read_excerpts_csv(tmp_path / "excerpts.csv") == excerpts


def gold_folder(corpus: Path, tmp_path: Path) -> tuple[Path, list]:
    excerpts = sample(corpus)
    folder = tmp_path / "gold"
    for e in excerpts:
        text = (corpus / e.source).read_text(encoding="utf-8")[e.start : e.end]
        at = text.index("亿") if "亿" in text else text.index("年")
        spans = [Span(at - 1, at + 1 if "亿" in text else at + 2, "QUANTITY" if "亿" in text else "DEADLINE")]
        write_standoff(folder / f"{e.doc_id}.json", standoff_record(e, spans, "test"))
    return folder, excerpts


def test_standoff_holds_no_text_and_loads_back_as_tasks(corpus, tmp_path):
    folder, excerpts = gold_folder(corpus, tmp_path)
    raw = (folder / f"{excerpts[0].doc_id}.json").read_text(encoding="utf-8")
    text = (corpus / excerpts[0].source).read_text(encoding="utf-8")
    assert text[excerpts[0].start : excerpts[0].end][:12] not in raw
    assert "text" not in json.loads(raw)["spans"][0]
    tasks = load_corpus_gold(folder, corpus)
    assert [t.doc_id for t in tasks] == sorted(e.doc_id for e in excerpts)
    for task, e in zip(tasks, sorted(excerpts, key=lambda e: e.doc_id), strict=True):
        assert task.offset == e.start and task.province == e.province and task.region == e.region
        assert task.text == text_of(corpus, e)
        assert all(task.text[s.start : s.end] == s.text for s in task.spans)
        assert task_record(task, e, "test") == read_standoff(folder / f"{e.doc_id}.json")


def text_of(corpus: Path, e) -> str:
    return (corpus / e.source).read_text(encoding="utf-8")[e.start : e.end]


def test_changed_corpus_is_an_error_naming_the_file(corpus, tmp_path):
    folder, excerpts = gold_folder(corpus, tmp_path)
    e = excerpts[0]
    path = corpus / e.source
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: e.start + 1] + "改" + text[e.start + 2 :], encoding="utf-8")
    with pytest.raises(CorpusMismatchError, match=rf"{e.source}.*sha256 differs"):
        load_corpus_gold(folder, corpus)
    path.unlink()
    with pytest.raises(CorpusMismatchError, match=rf"{e.source}: corpus file of excerpt"):
        load_corpus_gold(folder, corpus)
    with pytest.raises(FileNotFoundError, match="data.corpus_dir"):
        load_corpus_gold(folder, tmp_path / "nowhere")


def test_malformed_standoff_is_an_error_naming_the_file(corpus, tmp_path):
    folder, excerpts = gold_folder(corpus, tmp_path)
    path = folder / f"{excerpts[0].doc_id}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["spans"].append({"start": 0, "end": 99999, "label": "UNIT"})
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(StandoffError, match=rf"{path.name}: span 1 .* outside the excerpt"):
        read_standoff(path)
    path.write_text('{"doc_id": ', encoding="utf-8")
    with pytest.raises(StandoffError, match=rf"{path.name}: invalid JSON at line 1"):
        read_standoff(path)


def test_label_studio_task_data_brings_the_excerpt_back(corpus):
    e = sample(corpus)[0]
    data = excerpt_task_data(e, text_of(corpus, e))
    assert excerpt_from_data(data) == e
    assert excerpt_from_data({"text": "x", "doc_id": "seed", "offset": 0}) is None


def test_markup_records(corpus, tmp_path):
    excerpts = sample(corpus)[:2]
    texts = {e.doc_id: text_of(corpus, e) for e in excerpts}
    marked = texts[excerpts[0].doc_id].replace("年", "[[DEADLINE|年]]", 1)
    (tmp_path / f"{excerpts[0].doc_id}.txt").write_text(marked, encoding="utf-8")
    records = markup_records(tmp_path, excerpts, texts, "pass_a")
    assert len(records) == 1 and records[0]["provenance"] == "pass_a"
    (span,) = records[0]["spans"]
    assert texts[excerpts[0].doc_id][span["start"] : span["end"]] == "年"


def test_province_folds_keep_provinces_together_and_cover_every_region():
    regions = {f"r{i}": PROVINCES[i % 6] for i in range(20)}
    folds = province_folds(regions, 4)
    assert province_folds(regions, 4) == folds
    assert sorted(r for fold in folds for r in fold) == sorted(regions)
    for fold in folds:
        for other in folds:
            if fold is not other:
                assert not {regions[r] for r in fold} & {regions[r] for r in other}
    with pytest.raises(ValueError, match="at least 7 provinces"):
        province_folds(regions, 7)


def test_data_all_loads_seeds_and_corpus_gold_with_provinces_and_folds(corpus, tmp_path):
    folder, excerpts = gold_folder(corpus, tmp_path)
    settings = GoldSettings(
        gold=ROOT / "annotations" / "gold",
        seed_dir=ROOT / "seeds",
        max_chars=OmegaConf.load(ROOT / "configs" / "data" / "seeds.yaml").max_chars,
        corpus_gold=folder,
        corpus_dir=corpus,
        folds=3,
        holdout=None,
        train_fraction=1.0,
        train_fraction_seed=0,
    )
    dataset, _ = load_gold_dataset(settings)
    assert set(dataset["doc_id"]) >= {e.doc_id for e in excerpts} | {"xunxian_2022"}
    assert dict(zip(dataset["region"], dataset["province"], strict=True))["浚县"] == "河南"
    held = [resolve_holdout(replace(settings, holdout=f"fold-{i}")) for i in range(3)]
    assert sorted(r for fold in held for r in fold) == sorted(set(dataset["region"]))
    with pytest.raises(ValueError, match="numbered 0..2"):
        resolve_holdout(replace(settings, holdout="fold-3"))
    with pytest.raises(ValueError, match="needs data.folds=K"):
        resolve_holdout(replace(settings, holdout="fold-0", folds=None))


def test_corpus_numbers_agreement_review_changes_and_counts(corpus, tmp_path):
    from govreport_ner.annotation.corpus_report import corpus_numbers, corpus_section

    excerpts = sample(corpus)
    texts = {e.doc_id: text_of(corpus, e) for e in excerpts}
    gold_dir = tmp_path / "gold"

    def spans_of(e, pieces):
        text, out = texts[e.doc_id], []
        for piece, label in pieces:
            at = text.index(piece)
            out.append(Span(at, at + len(piece), label))
        return out

    double = excerpts[:2]
    for e in excerpts[:4]:
        first = spans_of(e, [("年", "DEADLINE")])
        final = first + (
            [] if e in double else spans_of(e, [("各位" if "各位" in texts[e.doc_id] else "第", "PROGRAM")])
        )
        write_standoff(gold_dir / f"{e.doc_id}.json", standoff_record(e, final, "gold"))
        write_standoff(gold_dir / "passes" / "pass_a" / f"{e.doc_id}.json", standoff_record(e, first, "A"))
        if e in double:
            write_standoff(gold_dir / "passes" / "pass_b" / f"{e.doc_id}.json", standoff_record(e, [], "B"))
            write_standoff(gold_dir / "passes" / "adjudicated" / f"{e.doc_id}.json", standoff_record(e, first, "J"))
        else:
            write_standoff(gold_dir / "passes" / "review" / f"{e.doc_id}.json", standoff_record(e, final, "R"))
    numbers = corpus_numbers(gold_dir, corpus, ["pass_a", "pass_b"], "review")
    assert numbers["double_annotated"] == sorted(e.doc_id for e in double)
    assert numbers["agreement"]["strict"]["micro"]["f1"] == 0.0
    assert numbers["passes_vs_gold"]["pass_a"]["strict"]["micro"]["f1"] == 1.0
    assert numbers["passes_vs_gold"]["pass_b"]["strict"]["micro"]["recall"] == 0.0
    assert numbers["rulings_changes"]["DEADLINE"]["kept"] == 4
    assert numbers["reviewed"] == 2
    assert numbers["review_changes"]["PROGRAM"]["added"] == 2
    assert numbers["review_changes"]["DEADLINE"]["kept"] == 2
    assert numbers["per_label"]["DEADLINE"] == 4 and numbers["per_label"]["PROGRAM"] == 2
    assert sum(row["excerpts"] for row in numbers["per_kind"].values()) == 4
    assert numbers["reannotation_vs_gold"] is None and numbers["reannotated"] == []
    # a fresh pass over two final-gold excerpts that finds only their DEADLINE spans
    for e in excerpts[2:4]:
        fresh = spans_of(e, [("年", "DEADLINE")])
        write_standoff(gold_dir / "passes" / "pass_c" / f"{e.doc_id}.json", standoff_record(e, fresh, "C"))
    again = corpus_numbers(gold_dir, corpus, ["pass_a", "pass_b"], "review", reannotation="pass_c")
    assert again["reannotated"] == sorted(e.doc_id for e in excerpts[2:4])
    scores = again["reannotation_vs_gold"]["strict"]["per_label"]
    assert scores["DEADLINE"]["f1"] == 1.0 and scores["PROGRAM"]["recall"] == 0.0
    section = corpus_section(again, ["pass_a", "pass_b"], "review", lambda s, name: name)
    assert "A fresh pass over 2 excerpts of the final gold" in section and "fresh pass vs final gold" in section


def seed_gold_holding_out_xunxian(corpus) -> GoldSettings:
    """The seed gold alone, 浚县 (河南) held out, with ``corpus`` for any extra gold."""
    return GoldSettings(
        gold=ROOT / "annotations" / "gold",
        seed_dir=ROOT / "seeds",
        max_chars=200,
        corpus_gold=None,
        corpus_dir=corpus,
        folds=None,
        holdout="xunxian",
    )


def test_extra_training_gold_joins_training_only_and_never_from_held_out_provinces(corpus, tmp_path):
    folder, excerpts = gold_folder(corpus, tmp_path)
    moved = replace(excerpts[0], province="河南")  # as if this excerpt came from the held-out seed's province
    write_standoff(folder / f"{moved.doc_id}.json", standoff_record(moved, [], "test"))
    settings = seed_gold_holding_out_xunxian(corpus)
    plain = load_gold_splits(settings)
    extra = load_gold_splits(replace(settings, extra_train_gold=folder))
    assert extra["test"]["id"] == plain["test"]["id"]
    added = set(extra["train"]["doc_id"]) - set(plain["train"]["doc_id"])
    assert added == {e.doc_id for e in excerpts[1:]}  # every extra excerpt but the one of the held-out province
    with pytest.raises(ValueError, match="repeats excerpts of the gold"):
        load_gold_splits(replace(settings, corpus_gold=folder, extra_train_gold=folder))


def test_extra_training_gold_reads_several_batches_and_refuses_one_excerpt_twice(corpus, tmp_path):
    folder, excerpts = gold_folder(corpus, tmp_path)
    first, second = tmp_path / "batch1", tmp_path / "batch2"
    for batch, part in ((first, excerpts[:2]), (second, excerpts[2:])):
        for e in part:
            write_standoff(batch / f"{e.doc_id}.json", standoff_record(e, [], "test"))
    settings = seed_gold_holding_out_xunxian(corpus)
    plain = load_gold_splits(settings)
    both = load_gold_splits(replace(settings, extra_train_gold=[str(first), second]))
    added = set(both["train"]["doc_id"]) - set(plain["train"]["doc_id"])
    assert added == {e.doc_id for e in excerpts}
    assert both["test"]["id"] == plain["test"]["id"]
    with pytest.raises(ValueError, match="of an earlier batch: ") as repeated:
        load_gold_splits(replace(settings, extra_train_gold=[first, folder]))
    assert excerpts[0].doc_id in str(repeated.value)
