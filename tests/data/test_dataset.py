"""govreport_ner.data.dataset: clause examples, region splits, statistics, and the export round trip."""

from __future__ import annotations

import ast
import json
import shlex
from collections import defaultdict
from pathlib import Path

import pytest
from datasets import Dataset
from omegaconf import OmegaConf

from govreport_ner.annotation.labelstudio_format import AnnotatedTask, parse_export, to_export_task
from govreport_ner.data.dataset import (
    build_dataset,
    dataset_to_tasks,
    example_spans,
    format_statistics,
    leave_one_region_out,
    oversample_labels,
    split_by_region,
    statistics,
    subsample_regions,
    task_clause_examples,
)
from govreport_ner.data.gold import GoldSettings, load_gold_splits
from govreport_ner.labels import BIO_TAGS, LABELS
from govreport_ner.spans import Span, bio_to_spans
from govreport_ner.text.segment import segment

DOC_A = (
    "一、生态环境\n"
    "完成新造林1万亩，补植补造1.8万亩。打好蓝天保卫战，落实“河长制”责任；\n"
    "\n"
    "10月底前建成吴家营九年制学校、高台文化产业园。"
)
DOC_B = "优良天数比例达75%以上；\r\n年内新增城镇就业2000人，推进“放管服”改革。\r\n无实体的一句。"

# (substring, label, occurrence) per document
ENTITIES = {
    "yangquan_2023": [
        ("1万", "QUANTITY", 0),
        ("亩", "UNIT", 0),
        ("1.8万", "QUANTITY", 0),
        ("亩", "UNIT", 1),
        ("蓝天保卫战", "PROGRAM", 0),
        ("河长制", "PROGRAM", 0),
        ("10月底前", "DEADLINE", 0),
        ("吴家营九年制学校", "PROJECT", 0),
        ("高台文化产业园", "PROJECT", 0),
    ],
    "dongxing_2023": [
        ("75", "QUANTITY", 0),
        ("%", "UNIT", 0),
        ("年内", "DEADLINE", 0),
        ("2000", "QUANTITY", 0),
        ("人", "UNIT", 0),
        ("“放管服”改革", "PROGRAM", 0),
    ],
}
DOCS = {"yangquan_2023": (DOC_A, "阳泉市郊区"), "dongxing_2023": (DOC_B, "东兴市")}


def key(spans):
    return sorted((s.start, s.end, s.label, s.text) for s in spans)


@pytest.fixture
def export(ls) -> list[dict]:
    """A Label Studio export: one task per document (DOC_A split in two tasks at a paragraph)."""
    tasks = []
    cut = DOC_A.index("10月底前")
    pieces = {"yangquan_2023": [(0, cut), (cut, len(DOC_A))], "dongxing_2023": [(0, len(DOC_B))]}
    n = 0
    for doc_id, entities in ENTITIES.items():
        text, region = DOCS[doc_id]
        results = [ls.locate(text, sub, label, nth) for sub, label, nth in entities]
        for start, end in pieces[doc_id]:
            n += 1
            local = []
            for item in results:
                value = item["value"]
                if start <= value["start"] and value["end"] <= end:
                    local.append(
                        ls.result(value["start"] - start, value["end"] - start, value["labels"][0], value["text"])
                    )
            tasks.append(ls.task(n, text[start:end], local, doc_id=doc_id, region=region, offset=start))
    return json.loads(json.dumps(tasks, ensure_ascii=False))


@pytest.fixture
def document_spans(ls) -> dict[str, list[tuple]]:
    out = {}
    for doc_id, entities in ENTITIES.items():
        text = DOCS[doc_id][0]
        out[doc_id] = sorted(
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
            for r in (ls.locate(text, sub, label, nth) for sub, label, nth in entities)
        )
    return out


@pytest.fixture
def annotated(export) -> list[AnnotatedTask]:
    tasks, report = parse_export(export)
    assert report.errors == report.repairs == []
    return tasks


def test_export_fixture_is_consistent(annotated, document_spans):
    """The hand-built export really holds every entity at its document offset."""
    by_doc = defaultdict(list)
    for task in annotated:
        by_doc[task.doc_id] += task.document_spans()
    assert {doc: key(spans) for doc, spans in by_doc.items()} == document_spans
    for doc_id, spans in document_spans.items():
        text = DOCS[doc_id][0]
        assert all(text[s:e] == t for s, e, _, t in spans)


def test_one_example_per_clause(annotated):
    dataset = build_dataset(annotated)
    expected = [(t.doc_id, t.offset + c.start, c.text) for t in annotated for c in segment(t.text)]
    assert [(e["doc_id"], e["start"], e["text"]) for e in dataset] == expected
    assert len(dataset) == 4 + 3
    assert dataset.features["ner_tags"].feature.names == list(BIO_TAGS)
    ids = dataset["id"]
    assert len(set(ids)) == len(ids)
    for example in dataset:
        doc_text, region = DOCS[example["doc_id"]]
        assert example["region"] == region
        assert doc_text[example["start"] : example["end"]] == example["text"]
        assert example["chars"] == list(example["text"])
        assert example["id"] == f"{example['doc_id']}:{example['start']}"


def test_ner_tags_consistent_with_spans(annotated):
    dataset = build_dataset(annotated)
    names = dataset.features["ner_tags"].feature.names
    total = 0
    for example in dataset:
        tags = [names[i] for i in example["ner_tags"]]
        assert len(tags) == len(example["text"])
        from_tags = bio_to_spans(example["text"], tags)
        assert key(from_tags) == key(example_spans(example))
        for s in example["spans"]:
            assert example["text"][s["start"] : s["end"]] == s["text"]
        total += len(example["spans"])
    assert total == sum(len(v) for v in ENTITIES.values())


def test_clause_budget_splits_without_cutting_spans(annotated, document_spans):
    dataset = build_dataset(annotated, max_chars=8)
    assert max(len(t) for t in dataset["text"]) <= 8
    assert len(dataset) > len(build_dataset(annotated))
    got = defaultdict(list)
    for example in dataset:
        got[example["doc_id"]] += example_spans(example, document_offsets=True)
    assert {doc: key(spans) for doc, spans in got.items()} == document_spans


def test_span_longer_than_budget_is_an_error(annotated):
    with pytest.raises(ValueError, match="longer than max_chars"):
        build_dataset(annotated, max_chars=4)  # 吴家营九年制学校 has 8 characters


def test_span_across_clauses_is_an_error():
    text = "甲乙。丙丁"
    task = AnnotatedTask("t", "d", "r", text, 0, (Span(1, 4, "PROGRAM", "乙。丙"),))
    with pytest.raises(ValueError, match="task t: 1 spans cross clause boundaries"):
        task_clause_examples(task)


def test_split_by_region(annotated):
    dataset = build_dataset(annotated)
    assert list(split_by_region(dataset, None)) == ["train"]
    assert list(split_by_region(dataset, [])) == ["train"]
    split = split_by_region(dataset, "东兴市")
    assert set(split["train"]["region"]) == {"阳泉市郊区"}
    assert set(split["test"]["region"]) == {"东兴市"}
    assert len(split["train"]) + len(split["test"]) == len(dataset)
    assert len(split["test"]) == 3
    from_hydra = split_by_region(dataset, OmegaConf.create({"holdout": ["东兴市"]}).holdout)  # a ListConfig
    assert from_hydra["test"]["id"] == split["test"]["id"]
    assert list(split_by_region(dataset, OmegaConf.create({"holdout": []}).holdout)) == ["train"]
    both = split_by_region(dataset, ["东兴市", "阳泉市郊区"])
    assert len(both["train"]) == 0 and len(both["test"]) == len(dataset)
    with pytest.raises(ValueError, match="浚县") as info:
        split_by_region(dataset, ["东兴市", "浚县"])
    assert "东兴市" in str(info.value) and "阳泉市郊区" in str(info.value)  # known regions listed


def test_subsample_regions_keeps_whole_regions_nested_by_seed():
    regions = [f"r{i}" for i in range(20) for _ in range(3)]  # 20 regions, 3 clauses each
    dataset = Dataset.from_dict({"id": [str(i) for i in range(len(regions))], "region": regions})
    assert subsample_regions(dataset, 1.0, seed=0) is dataset
    quarter, half = (set(subsample_regions(dataset, f, seed=0)["region"]) for f in (0.25, 0.5))
    assert len(quarter) == 5 and len(half) == 10 and quarter < half  # nested shares of one seed
    half_rows = subsample_regions(dataset, 0.5, seed=0)
    assert len(half_rows) == 30  # every clause of a kept region
    assert set(subsample_regions(dataset, 0.5, seed=1)["region"]) != half  # the seed picks the regions
    assert len(set(subsample_regions(dataset, 0.01, seed=0)["region"])) == 1  # never empty
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="share of training regions"):
            subsample_regions(dataset, bad, seed=0)


def test_train_fraction_shrinks_the_training_regions_and_leaves_the_test_split(repo_root):
    data = OmegaConf.load(repo_root / "configs" / "data" / "seeds.yaml")
    assert data.train_fraction == 1.0  # the default trains on every training region

    def splits(fraction):
        settings = GoldSettings(
            gold=repo_root / "annotations" / "gold",
            seed_dir=repo_root / "seeds",
            max_chars=data.max_chars,
            corpus_gold=None,
            corpus_dir=None,
            folds=None,
            holdout="xunxian",
            train_fraction=fraction,
            train_fraction_seed=0,
        )
        return load_gold_splits(settings)

    full, half = splits(1.0), splits(0.5)
    assert half["test"]["id"] == full["test"]["id"]
    assert len(set(full["train"]["region"])) == 4 and len(set(half["train"]["region"])) == 2
    assert set(half["train"]["id"]) < set(full["train"]["id"])


def test_a_run_configured_before_learning_curves_reads_as_all_regions(repo_root):
    from govreport_ner.commands.config import gold_settings

    old = OmegaConf.create(  # the data section a run saved before data.train_fraction existed
        {
            "gold": str(repo_root / "annotations" / "gold"),
            "seed_dir": str(repo_root / "seeds"),
            "holdout": None,
            "max_chars": 200,
            "corpus_gold": None,
            "corpus_dir": None,
            "folds": None,
        }
    )
    settings = gold_settings(old, holdout="xunxian")
    assert settings.train_fraction == 1.0 and len(set(load_gold_splits(settings)["train"]["region"])) == 4


def test_oversample_labels_repeats_clauses_of_rare_labels(annotated):
    dataset = build_dataset(annotated)
    labels_of = [{s["label"] for s in spans} for spans in dataset["spans"]]
    with_deadline = [i for i, labels in enumerate(labels_of) if "DEADLINE" in labels]
    with_project = [i for i, labels in enumerate(labels_of) if "PROJECT" in labels]
    assert with_deadline and with_project
    assert oversample_labels(dataset, {}) is dataset
    more = oversample_labels(dataset, {"DEADLINE": 3})
    assert len(more) == len(dataset) + 2 * len(with_deadline)
    assert more["id"][: len(dataset)] == dataset["id"]  # originals first, in order
    assert sorted(more["id"][len(dataset) :]) == sorted(2 * [dataset["id"][i] for i in with_deadline])
    both = oversample_labels(dataset, {"DEADLINE": 3, "PROJECT": 2})  # a clause takes its largest factor
    expected = sum(3 if "DEADLINE" in labels else 2 if "PROJECT" in labels else 1 for labels in labels_of)
    assert len(both) == expected
    with pytest.raises(ValueError, match="DEADLIEN"):
        oversample_labels(dataset, {"DEADLIEN": 2})
    with pytest.raises(ValueError, match="whole numbers"):
        oversample_labels(dataset, {"DEADLINE": 0})


def test_leave_one_region_out(annotated):
    dataset = build_dataset(annotated)
    folds = leave_one_region_out(dataset)
    assert list(folds) == sorted(["阳泉市郊区", "东兴市"])
    for region, split in folds.items():
        assert set(split["test"]["region"]) == {region}
        assert region not in set(split["train"]["region"])
        assert len(split["train"]) + len(split["test"]) == len(dataset)


def test_statistics(annotated):
    dataset = build_dataset(annotated)
    stats = statistics(dataset)
    assert list(stats["regions"]) == sorted(["阳泉市郊区", "东兴市"])
    a = stats["regions"]["阳泉市郊区"]
    assert a["clauses"] == 4
    assert a["characters"] == sum(len(c.text) for c in segment(DOC_A))
    assert (a["QUANTITY"], a["UNIT"], a["DEADLINE"], a["PROJECT"], a["PROGRAM"]) == (2, 2, 1, 2, 2)
    b = stats["regions"]["东兴市"]
    assert (b["clauses"], b["QUANTITY"], b["UNIT"], b["DEADLINE"], b["PROJECT"], b["PROGRAM"]) == (3, 2, 2, 1, 0, 1)
    total = stats["total"]
    assert list(total) == ["clauses", "characters", *LABELS]
    assert total["clauses"] == len(dataset) == 7
    assert total["characters"] == a["characters"] + b["characters"]
    assert sum(total[label] for label in LABELS) == 15
    table = format_statistics(stats)
    lines = table.splitlines()
    assert lines[0] == "| region | clauses | characters | QUANTITY | UNIT | DEADLINE | PROJECT | PROGRAM | entities |"
    assert lines[-1] == f"| **total** | 7 | {total['characters']} | 4 | 4 | 2 | 2 | 3 | 15 |"
    assert len(lines) == 2 + 2 + 1


def test_statistics_of_an_empty_split(annotated):
    empty = split_by_region(build_dataset(annotated), ["东兴市", "阳泉市郊区"])["train"]
    stats = statistics(empty)
    assert stats["regions"] == {}
    assert all(v == 0 for v in stats["total"].values())


@pytest.mark.parametrize("max_chars", [200, 9])
def test_round_trip_through_label_studio_export(annotated, document_spans, max_chars):
    dataset = build_dataset(annotated, max_chars=max_chars)
    exported = [to_export_task(task, annotation_id=i) for i, task in enumerate(dataset_to_tasks(dataset), 1)]
    exported = json.loads(json.dumps(exported, ensure_ascii=False))
    back, report = parse_export(exported)
    assert report.errors == report.repairs == report.skipped == []
    assert len(back) == len(dataset)
    got = defaultdict(list)
    for task in back:
        doc_text = DOCS[task.doc_id][0]
        assert doc_text[task.offset : task.offset + len(task.text)] == task.text
        assert task.region == DOCS[task.doc_id][1]
        got[task.doc_id] += task.document_spans()
    assert {doc: key(spans) for doc, spans in got.items()} == document_spans
    # and the clauses rebuild the same dataset
    again = build_dataset(back, max_chars=max_chars)
    assert again["id"] == dataset["id"]
    assert again["ner_tags"] == dataset["ner_tags"]


@pytest.mark.slow
def test_build_dataset_script(tmp_path, export, run_script):
    datasets = pytest.importorskip("datasets")
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "export.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    # Hydra's override grammar needs non-ASCII values quoted (see test_documented_unquoted_holdout_override)
    proc = run_script(
        "build_dataset.py", f"data.gold={gold}", f"output_dir={out}", "data.holdout='东兴市'", cwd=tmp_path
    )
    assert "0 errors, 0 repairs, 0 tasks skipped" in proc.stdout
    assert "saved DatasetDict(train: 4, test: 3)" in proc.stdout
    loaded = datasets.load_from_disk(str(out))
    assert set(loaded) == {"train", "test"}
    assert set(loaded["test"]["region"]) == {"东兴市"}
    assert set(loaded["train"]["region"]) == {"阳泉市郊区"}
    assert loaded["train"].features["ner_tags"].feature.names == list(BIO_TAGS)
    first = loaded["test"][0]
    assert first["text"] == "优良天数比例达75%以上；"
    assert [s["text"] for s in first["spans"]] == ["75", "%"]
    stats = json.loads((out / "statistics.json").read_text(encoding="utf-8"))
    assert stats["test"]["total"]["clauses"] == 3 and stats["train"]["total"]["clauses"] == 4
    assert stats["train"]["total"]["PROJECT"] == 2


def documented_overrides(script: Path) -> list[tuple[str, list[str]]]:
    """The Hydra overrides of every ``python scripts/...`` usage line in a script's docstring."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    usages = []
    for line in doc.splitlines():
        line = line.strip()
        if line.startswith("python scripts/"):
            usages.append((line, [arg for arg in shlex.split(line)[2:] if not arg.startswith("-")]))
    return usages


@pytest.mark.parametrize(
    "script",
    [
        "build_dataset.py",
        "train.py",
        "evaluate.py",
        "aggregate.py",
        "prelabel.py",
        "model_card.py",
        "silver.py",
        "compare.py",
    ],
)
def test_documented_usage_parses_as_hydra_overrides(repo_root, script):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    usages = documented_overrides(repo_root / "scripts" / script)
    assert usages, f"no usage lines in {script}"
    parser = OverridesParser.create()
    for line, overrides in usages:
        parsed = parser.parse_overrides(overrides)
        assert len(parsed) == len(overrides), line


def test_quoted_holdout_override_and_config_defaults(repo_root):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(repo_root / "configs"), version_base="1.3"):
        cfg = compose(config_name="build_dataset", overrides=["data.holdout='浚县'"])
        assert cfg.data.holdout == "浚县"
        cfg = compose(config_name="build_dataset", overrides=["data.holdout=['浚县','东兴市']"])
        assert list(cfg.data.holdout) == ["浚县", "东兴市"]
        default = compose(config_name="build_dataset")
    assert default.data.holdout is None
    assert default.data.max_chars == 200
    assert "labels" not in default.data  # the scheme is labels.LABELS, not repeated in the config
    assert default.skip_unannotated is False
