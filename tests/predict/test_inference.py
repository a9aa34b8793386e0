"""govreport_ner.predict.batch: exact offsets, output formats, resume after a crash, shards, failures.

Every model here is a tiny randomly initialised BERT saved into tmp_path: random weights
tag nearly every character, which is exactly what an offset test wants (entities start
and end everywhere, including inside CRLF text and multi-character tokens).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from govreport_ner.annotation.labelstudio_format import parse_export
from govreport_ner.extract import rules
from govreport_ner.model.crf import CrfScores
from govreport_ner.model.ensemble import EnsembleTagger, write_ensemble_manifest
from govreport_ner.model.modeling import build_tiny, save_checkpoint
from govreport_ner.model.tagger import batch_windows
from govreport_ner.model.word_boundaries import NUM_WORD_TAGS
from govreport_ner.model.word_embedding import WordBoundaryModel
from govreport_ner.predict.batch import run_batch
from govreport_ner.predict.predictors import checkpoint_list, load_predictor
from govreport_ner.predict.protocol import RulePredictor
from govreport_ner.predict.writers import CSV_COLUMNS, partial_path
from govreport_ner.text.inputs import Failure, iter_documents, parse_shard, shard_of
from govreport_ner.text.reader import read_report

# 𠮷 (U+20BB7) needs four bytes in GB18030; CRLF line breaks are kept as they are.
CRLF_TEXT = (
    "一、2024年主要目标\r\n"
    "到2025年新建学校12所，完成投资3.5亿元以上。\r\n"
    "全年新增城镇就业1.2万人，𠮷祥路改造工程年底前竣工；实施“乡村振兴”战略。\r\n"
    "\r\n"
    "优良天数比例达到85%左右，PM2.5浓度控制在35微克/立方米以下。\r\n"
)
LF_TEXT = (
    "（一）扎实推进项目建设。\n全年实施重点项目120个，完成投资85亿元。\n新建5G基站1500个，改造老旧小区3至5万户。\n"
)
# 20,000 characters on one line with no punctuation at all: only hard splits are possible.
LONG_LINE = ("新建学校12所完成投资3亿元建成吴家营九年制学校" * 900)[:20_000]
SHORT_TEXTS = [f"第{i}项：新建公园{i + 2}个，投资{i}.5亿元。\n年底前完成改造工程。" for i in range(12)]
ALL_TEXT = CRLF_TEXT + LF_TEXT + LONG_LINE + "".join(SHORT_TEXTS) + "0123456789"


def _checkpoint(directory: Path, one_token_per_char: bool, word_boundaries: bool = False, seed: int = 1) -> Path:
    tokenizer, model = build_tiny([ALL_TEXT], hidden_size=32, intermediate_size=64, seed=seed)
    if word_boundaries:  # random vectors, large enough that the tags change predictions
        torch.manual_seed(2)
        model = WordBoundaryModel(model, torch.randn(NUM_WORD_TAGS, 32) * 3)
    alignment = {"one_token_per_char": one_token_per_char, "max_length": 64, "stride": 8, "model_version": "tiny-test"}
    save_checkpoint(model, tokenizer, directory / "model", alignment)
    return directory


@pytest.fixture(scope="session")
def char_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint whose tokens are single characters (as the tiny training config)."""
    return _checkpoint(tmp_path_factory.mktemp("tiny_char"), one_token_per_char=True)


@pytest.fixture(scope="session")
def subword_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint with the tokenizer's own tokens: digit runs become one multi-character [UNK]."""
    return _checkpoint(tmp_path_factory.mktemp("tiny_subword"), one_token_per_char=False)


@pytest.fixture(scope="session")
def word_checkpoint(tmp_path_factory) -> Path:
    """A subword checkpoint with the word-boundary input feature."""
    return _checkpoint(tmp_path_factory.mktemp("tiny_words"), one_token_per_char=False, word_boundaries=True)


@pytest.fixture(scope="session")
def predictor(char_checkpoint):
    return load_predictor(char_checkpoint, engine="torch", num_threads=1)


@pytest.fixture()
def reports(tmp_path) -> Path:
    """A folder of reports: GB18030 + CRLF, UTF-8 with BOM, a 20k-character line, short ones."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "gb_crlf.txt").write_bytes(CRLF_TEXT.encode("gb18030"))
    (folder / "bom.txt").write_bytes(b"\xef\xbb\xbf" + LF_TEXT.encode("utf-8"))
    (folder / "long_line.txt").write_bytes(LONG_LINE.encode("utf-8"))
    for i, text in enumerate(SHORT_TEXTS):
        (folder / f"short_{i:02d}.txt").write_text(text, encoding="utf-8")
    return folder


def _texts(folder: Path) -> dict[str, str]:
    return {p.stem: read_report(p).text for p in sorted(folder.glob("*.txt"))}


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _entity_keys(record: dict) -> list[tuple]:
    return [(e["start"], e["end"], e["label"], e["text"]) for e in record["entities"]]


def _without_scores(value):
    """A record part with every ``score`` left out (float noise between engines, below the 4 decimals written)."""
    if isinstance(value, dict):
        return {k: _without_scores(v) for k, v in value.items() if k != "score"}
    if isinstance(value, list):
        return [_without_scores(v) for v in value]
    return value


def _check_offsets(records: list[dict], texts: dict[str, str]) -> int:
    """Every entity and target span indexes its document exactly; returns how many entities."""
    n = 0
    for record in records:
        text = texts[record["id"]]
        for e in record["entities"]:
            assert 0 <= e["start"] < e["end"] <= len(text)
            assert text[e["start"] : e["end"]] == e["text"], (record["id"], e)
            n += 1
        for t in record["targets"]:
            for key in ("quantity_span", "unit_span", "deadline_span", "project_span"):
                span = t[key]
                if span is not None:
                    assert text[span["start"] : span["end"]] == span["text"]
            assert t["quantity"] == t["quantity_span"]["text"]
    return n


# --------------------------------------------------------------------------- offsets


@pytest.mark.parametrize("checkpoint", ["char_checkpoint", "subword_checkpoint", "rules"])
def test_offsets_exact_on_gb18030_crlf_bom_and_a_20k_line(checkpoint, reports, tmp_path, request):
    ckpt = checkpoint if checkpoint == "rules" else request.getfixturevalue(checkpoint)
    out = tmp_path / "out.jsonl"
    summary = run_batch(load_predictor(ckpt, num_threads=1), reports, out, progress=False)
    assert summary.exit_code == 0 and summary.failures == []
    texts = _texts(reports)
    assert "\r\n" in texts["gb_crlf"] and "𠮷" in texts["gb_crlf"]
    records = _read_jsonl(out)
    assert sorted(r["id"] for r in records) == sorted(texts)
    assert _check_offsets(records, texts) > 0
    by_id = {r["id"]: r for r in records}
    long_entities = by_id["long_line"]["entities"]
    assert long_entities and max(e["end"] for e in long_entities) > 19_000  # the whole line was read
    crlf = by_id["gb_crlf"]["entities"]
    assert crlf and all("\r" not in e["text"] and "\n" not in e["text"] for e in crlf)
    assert summary.characters == sum(map(len, texts.values()))
    assert summary.entities == sum(len(r["entities"]) for r in records)
    assert not partial_path(out).exists()


def test_rules_checkpoint_is_the_rule_tagger(reports):
    predictor = load_predictor("rules")
    assert isinstance(predictor, RulePredictor) and predictor.model_version == rules.MODEL_VERSION
    text = _texts(reports)["gb_crlf"]
    assert predictor.predict_spans(text) == rules.tag_text(text)
    assert any(s.label == "QUANTITY" for s in predictor.predict_spans(text))


def test_batching_across_documents_changes_nothing(predictor):
    """One document alone and the same document batched with others get the same entities."""
    texts = [CRLF_TEXT, LF_TEXT, *SHORT_TEXTS]
    together = predictor.predict_documents(texts)
    for text, spans in zip(texts, together, strict=True):
        alone = predictor.predict_spans(text)
        assert [(s.start, s.end, s.label) for s in alone] == [(s.start, s.end, s.label) for s in spans]
        assert [s.score for s in alone] == pytest.approx([s.score for s in spans], abs=1e-4)


def test_token_budget_batches():
    lengths = [3, 3, 4, 10, 10, 10, 40, 200]
    batches = batch_windows(lengths, batch_size=4, max_tokens=40)
    assert [b for b in batches] == [(0, 4), (4, 6), (6, 7), (7, 8)]
    covered = [i for a, b in batches for i in range(a, b)]
    assert covered == list(range(len(lengths)))
    for a, b in batches:
        assert b - a <= 4 and ((b - a) * lengths[b - 1] <= 40 or b - a == 1)


# --------------------------------------------------------------------------- formats


def test_jsonl_record_shape(predictor, reports, tmp_path):
    out = tmp_path / "out.jsonl"
    run_batch(predictor, reports, out, progress=False)
    for record in _read_jsonl(out):
        assert {"id", "source", "entities", "targets", "model_version"} <= set(record)
        assert record["model_version"] == "tiny-test"
        assert Path(record["source"]).stem == record["id"]
        for e in record["entities"]:
            assert set(e) == {"start", "end", "label", "text", "score"} and 0 < e["score"] <= 1
        assert [e["start"] for e in record["entities"]] == sorted(e["start"] for e in record["entities"])


def test_csv_has_one_row_per_target(reports, tmp_path):
    predictor = load_predictor("rules")
    run_batch(predictor, reports, tmp_path / "out.jsonl", progress=False)
    run_batch(predictor, reports, tmp_path / "out.csv", fmt="csv", progress=False)
    records = _read_jsonl(tmp_path / "out.jsonl")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        rows = list(reader)
    targets = [(r["id"], t) for r in records for t in r["targets"]]
    assert len(rows) == len(targets) > 0
    texts = _texts(reports)
    for row, (doc_id, target) in zip(rows, targets, strict=True):
        assert row["id"] == doc_id and row["quantity"] == target["quantity"]
        start, end = int(row["quantity_start"]), int(row["quantity_end"])
        assert texts[doc_id][start:end] == row["quantity"]
        assert texts[doc_id][int(row["clause_start"]) : int(row["clause_end"])] == row["clause"]
        if target["value"] is not None:
            assert float(row["value"]) == target["value"]
        assert row["comparator"] == target["comparator"]


@pytest.mark.slow
@pytest.mark.parametrize("per", ["document", "paragraph"])
def test_labelstudio_predictions_parse_back_to_the_same_entities(predictor, reports, tmp_path, per):
    run_batch(predictor, reports, tmp_path / "out.jsonl", progress=False)
    run_batch(predictor, reports, tmp_path / "tasks.json", fmt="labelstudio", per=per, progress=False)
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert isinstance(tasks, list) and tasks
    for task in tasks:
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == "tiny-test"
    # Read the predictions back with the project's export reader (as if accepted unchanged).
    as_export = [
        {**task, "id": n, "annotations": [{"id": 1, "result": task["predictions"][0]["result"]}]}
        for n, task in enumerate(tasks)
    ]
    parsed, report = parse_export(as_export)
    assert report.errors == [] and report.repairs == []
    got: dict[str, list] = {}
    for task in parsed:
        got.setdefault(task.doc_id, []).extend((s.start, s.end, s.label, s.text) for s in task.document_spans())
    expected = {r["id"]: _entity_keys(r) for r in _read_jsonl(tmp_path / "out.jsonl")}
    if per == "document":
        assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in expected.items()}
    else:  # paragraph tasks hold the entities inside one line (entities never cross a line break)
        for doc_id, spans in got.items():
            assert set(spans) <= set(expected[doc_id])
        assert sum(map(len, got.values())) == sum(map(len, expected.values()))


# --------------------------------------------------------------------------- resume


class CrashAfter:
    """A predictor that dies (like a killed process) after ``n`` successful calls."""

    def __init__(self, inner, n: int):
        self.inner, self.n, self.model_version = inner, n, inner.model_version

    def predict_documents(self, texts):
        if self.n == 0:
            raise KeyboardInterrupt("simulated crash")
        self.n -= 1
        return self.inner.predict_documents(texts)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "labelstudio"])
def test_resume_after_a_crash_loses_and_duplicates_nothing(predictor, reports, tmp_path, fmt):
    reference = tmp_path / "reference.jsonl"
    run_batch(predictor, reports, reference, progress=False)
    ref_lines = reference.read_text(encoding="utf-8").splitlines(keepends=True)
    expected = {r["id"]: _entity_keys(r) for r in map(json.loads, ref_lines)}

    out = tmp_path / f"out.{fmt}"
    with pytest.raises(KeyboardInterrupt):
        run_batch(CrashAfter(predictor, 3), reports, out, fmt=fmt, buffer_docs=1, progress=False)
    assert not out.exists()  # nothing half-written under the output's name
    partial = partial_path(out)
    lines = partial.read_bytes().splitlines(keepends=True)
    assert len(lines) == 3
    # The crash also cut the next line in half.
    cut = json.dumps({"id": "short_05", "rows": [], "tasks": [], "entities": []}).encode()
    partial.write_bytes(b"".join(lines) + cut[: len(cut) // 2])

    summary = run_batch(predictor, reports, out, fmt=fmt, resume=True, progress=False)
    assert summary.resumed == 3 and summary.documents == len(expected) - 3
    assert not partial.exists()
    _assert_output_complete(out, fmt, expected)

    # Resuming a complete output keeps it as it is. (A CSV only shows the documents that
    # have targets; the others are predicted again, which adds no row.)
    before = out.read_bytes()
    again = run_batch(predictor, reports, out, fmt=fmt, resume=True, progress=False)
    done = _docs_with_rows(out) if fmt == "csv" else len(expected)
    assert again.resumed == done and again.documents == len(expected) - done
    assert out.read_bytes() == before


def _docs_with_rows(out: Path) -> int:
    with out.open(encoding="utf-8-sig", newline="") as handle:
        return len({row["id"] for row in csv.DictReader(handle)})


def _assert_output_complete(out: Path, fmt: str, expected: dict[str, list]) -> None:
    if fmt == "jsonl":
        records = _read_jsonl(out)
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)) and set(ids) == set(expected)
        assert {r["id"]: _entity_keys(r) for r in records} == expected
    elif fmt == "labelstudio":
        tasks = json.loads(out.read_text(encoding="utf-8"))
        ids = [t["data"]["doc_id"] for t in tasks]
        assert len(ids) == len(set(ids)) and set(ids) == set(expected)
        for task in tasks:
            result = task["predictions"][0]["result"]
            got = [
                (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"]) for r in result
            ]
            assert got == expected[task["data"]["doc_id"]]
    else:
        with out.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        keys = [(r["id"], r["quantity_start"]) for r in rows]
        assert len(keys) == len(set(keys))
        assert {r["id"] for r in rows} <= set(expected)


# --------------------------------------------------------------------------- shards


def test_shards_partition_the_documents(predictor, reports, tmp_path):
    full = tmp_path / "full.jsonl"
    run_batch(predictor, reports, full, progress=False)
    parts = []
    for i in range(2):
        part = tmp_path / f"part{i}.jsonl"
        summary = run_batch(predictor, reports, part, shard=f"{i}/2", progress=False)
        assert summary.shard == f"{i}/2" and summary.documents > 0
        parts.append(_read_jsonl(part))
    joined = parts[0] + parts[1]
    assert len(joined) == len(_read_jsonl(full))
    assert {r["id"]: _entity_keys(r) for r in joined} == {r["id"]: _entity_keys(r) for r in _read_jsonl(full)}
    assert not {r["id"] for r in parts[0]} & {r["id"] for r in parts[1]}


def test_shard_assignment_is_stable():
    assert parse_shard("1/4") == (1, 4) and parse_shard(None) is None and parse_shard("null") is None
    for bad in ("4/4", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)
    # A fixed function of the id: the same on every machine, in every run.
    assert [shard_of(f"doc{i}", 3) for i in range(6)] == [shard_of(f"doc{i}", 3) for i in range(6)]
    assert {shard_of(f"doc{i}", 3) for i in range(60)} == {0, 1, 2}


# --------------------------------------------------------------------------- failures


def test_unreadable_and_empty_inputs_are_reported_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text(LF_TEXT, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"  \r\n")
    (folder / "binary.txt").write_bytes(b"\x81\x30\xff\xfe\x00\x81")
    (folder / "zz_good.txt").write_bytes(CRLF_TEXT.encode("gb18030"))
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps({"id": "j1", "text": LF_TEXT}, ensure_ascii=False),
                '{"id": "broken", "text": ',
                json.dumps({"id": "blank", "text": "   "}),
                json.dumps({"id": "j1", "text": "重复的编号"}, ensure_ascii=False),
                json.dumps({"id": "notext"}),
                json.dumps({"id": "j2", "text": CRLF_TEXT}, ensure_ascii=False),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    summary = run_batch(load_predictor("rules"), [folder, jsonl, tmp_path / "missing"], out, progress=False)
    assert summary.exit_code == 1
    reasons = {f.id: f.reason for f in summary.failures}
    assert set(reasons) == {"empty", "binary", "docs-2", "blank", "j1", "notext", "missing"}
    assert "empty" in reasons["empty"] and "NUL byte" in reasons["binary"]
    assert "JSON" in reasons["docs-2"] and "duplicate" in reasons["j1"] and "no such" in reasons["missing"]
    assert [r["id"] for r in _read_jsonl(out)] == ["good", "zz_good", "j1", "j2"]
    text = summary.format_text()
    assert "7 failed" in text and "FAILED binary" in text
    assert summary.to_dict()["exit_code"] == 1
    # A resumed run keeps the done documents and reports the same failures again.
    again = run_batch(load_predictor("rules"), [folder, jsonl, tmp_path / "missing"], out, resume=True, progress=False)
    assert again.documents == 0 and again.resumed == 4 and again.exit_code == 1
    assert {f.id: f.reason for f in again.failures} == reasons
    assert [r["id"] for r in _read_jsonl(out)] == ["good", "zz_good", "j1", "j2"]


def test_jsonl_inputs_are_streamed_with_ids(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"text": "甲"}) + "\n\n" + json.dumps({"id": 7, "text": "乙\r\n"}) + "\n")
    items = list(iter_documents([path]))
    assert [(d.id, d.text) for d in items] == [("in-1", "甲"), ("7", "乙\r\n")]
    assert not any(isinstance(d, Failure) for d in items)


# --------------------------------------------------------------------------- ONNX


@pytest.mark.slow
@pytest.mark.parametrize("checkpoint_name", ["char_checkpoint", "word_checkpoint"])
def test_onnx_engine_matches_torch(checkpoint_name, reports, tmp_path, request):
    pytest.importorskip("onnxruntime")
    char_checkpoint = request.getfixturevalue(checkpoint_name)
    onnx_dir = tmp_path / "onnx"
    torch_out, onnx_out, int8_out = tmp_path / "t.jsonl", tmp_path / "o.jsonl", tmp_path / "q.jsonl"
    run_batch(load_predictor(char_checkpoint, engine="torch", num_threads=1), reports, torch_out, progress=False)
    onnx_predictor = load_predictor(char_checkpoint, engine="onnx", onnx_dir=onnx_dir, num_threads=1)
    assert onnx_predictor.model_version == "tiny-test+onnx"
    run_batch(onnx_predictor, reports, onnx_out, progress=False)
    assert (onnx_dir / "model.onnx").exists()
    assert [_entity_keys(r) for r in _read_jsonl(onnx_out)] == [_entity_keys(r) for r in _read_jsonl(torch_out)]
    int8 = load_predictor(char_checkpoint, engine="onnx", quantize=True, onnx_dir=onnx_dir, num_threads=1)
    assert int8.model_version == "tiny-test+onnx-int8" and (onnx_dir / "model.int8.onnx").exists()
    run_batch(int8, reports, int8_out, progress=False)
    assert _check_offsets(_read_jsonl(int8_out), _texts(reports)) > 0
    # From the cache (no torch weights loaded, no export): the same predictions.
    cached = load_predictor(char_checkpoint, engine="onnx", quantize=True, onnx_dir=onnx_dir, num_threads=1)
    assert cached.tagger.model is None
    assert cached.predict_documents([CRLF_TEXT]) == int8.predict_documents([CRLF_TEXT])
    assert (
        cached.tagger.word_boundaries == onnx_predictor.tagger.word_boundaries == (checkpoint_name == "word_checkpoint")
    )


def test_default_engine_is_the_fastest_exact_one(char_checkpoint, reports, tmp_path, monkeypatch):
    """engine=auto: ONNX fp32 when onnxruntime is installed, with torch's predictions (never int8); else torch."""
    from govreport_ner.predict import predictors

    torch_out, auto_out = tmp_path / "t.jsonl", tmp_path / "a.jsonl"
    torch_summary = run_batch(
        load_predictor(char_checkpoint, engine="torch", num_threads=1), reports, torch_out, progress=False
    )
    auto = load_predictor(char_checkpoint, onnx_dir=tmp_path / "onnx", num_threads=1)
    summary = run_batch(auto, reports, auto_out, progress=False)
    assert torch_summary.engine == "torch" and "engine: torch" in torch_summary.format_text()
    if predictors.onnx_available():
        assert (
            auto.engine == "onnx fp32"
            and summary.engine == "onnx fp32"
            and "engine: onnx fp32" in summary.format_text()
        )
    else:
        assert auto.engine == "torch"
    got, expected = _read_jsonl(auto_out), _read_jsonl(torch_out)
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    assert [_entity_keys(r) for r in got] == [_entity_keys(r) for r in expected]
    assert [_without_scores(r["targets"]) for r in got] == [_without_scores(r["targets"]) for r in expected]
    monkeypatch.setattr(predictors, "onnx_available", lambda: False)
    assert predictors.resolve_engine("auto") == "torch" and predictors.resolve_engine("auto", quantize=True) == "onnx"


def test_quantize_needs_onnx(char_checkpoint):
    with pytest.raises(ValueError, match="engine=onnx"):
        load_predictor(char_checkpoint, engine="torch", quantize=True)


def test_a_document_that_breaks_the_writer_is_reported_not_fatal(tmp_path):
    class Broken:
        model_version = "broken"

        def predict_documents(self, texts):
            from govreport_ner.spans import Span

            return [[Span(0, len(t) + 5, "QUANTITY")] if "坏" in t else [] for t in texts]

    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in [("a", "好"), ("b", "坏"), ("c", "好")]
        ),
        encoding="utf-8",
    )
    summary = run_batch(Broken(), jsonl, tmp_path / "out.jsonl", progress=False)
    assert [f.id for f in summary.failures] == ["b"] and summary.exit_code == 1
    assert [r["id"] for r in _read_jsonl(tmp_path / "out.jsonl")] == ["a", "c"]


def test_model_plus_rules_hybrid_takes_rule_labels_from_the_rules():
    from govreport_ner.extract import rules
    from govreport_ner.predict.predictors import ModelPredictor
    from govreport_ner.spans import Span

    class FixedTagger:
        model_version = "fixed"

        def predict_clauses(self, texts, batch_size=None):
            # a model that calls everything before the first comma PROGRAM and 1万 a DEADLINE
            return [
                [Span(0, t.index("，"), "PROGRAM", t[: t.index("，")]), Span(5, 7, "DEADLINE", t[5:7])] for t in texts
            ]

    text = "完成新造林1万亩，打好蓝天保卫战。"
    hybrid = ModelPredictor(FixedTagger(), rule_labels=["QUANTITY", "UNIT", "DEADLINE"])
    spans = hybrid.predict_spans(text)
    assert hybrid.model_version == "fixed+rules(QUANTITY,UNIT,DEADLINE)"
    rule_spans = [s for s in rules.tag_text(text) if s.label in ("QUANTITY", "UNIT")]
    assert [(s.label, s.text) for s in rule_spans] == [("QUANTITY", "1万"), ("UNIT", "亩")]
    # the model's PROGRAM overlaps the rule QUANTITY (rules win), its DEADLINE is not its to give
    assert [(s.label, s.text) for s in spans] == [("QUANTITY", "1万"), ("UNIT", "亩")]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_summary_line_says_which_system_decided_each_label():
    from govreport_ner.predict.batch import Summary

    hybrid = Summary(model_version="m", engine="onnx fp32", rule_labels=("QUANTITY", "UNIT")).format_text()
    assert "labels: QUANTITY, UNIT from the rules, the others from the model" in hybrid
    alone = Summary(model_version="m", engine="torch").format_text()
    assert "labels: all from the model (rule_labels=[...] for the model+rules hybrid)" in alone
    assert "labels:" not in Summary(model_version="rules-0.1", engine="rules").format_text().splitlines()[0]


class CountingTagger:
    """A stand-in tagger: one QUANTITY on the first digit run of each clause, counting its calls."""

    model_version = "counting"
    engine = "torch"

    def __init__(self):
        self.calls = 0

    def predict_clauses(self, clauses, batch_size):
        import re

        from govreport_ner.spans import Span

        self.calls += 1
        found = [re.search(r"\d+", c) for c in clauses]
        return [[Span(m.start(), m.end(), "QUANTITY", m.group())] if m else [] for m in found]


def test_the_model_and_its_hybrid_run_the_model_once_over_the_same_clauses():
    from govreport_ner.evaluate.scoring import systems_against_rules
    from govreport_ner.predict.predictors import ModelPredictor

    tagger = CountingTagger()
    systems = systems_against_rules(ModelPredictor(tagger), ["UNIT"])
    clauses = ["完成投资35亿元。", "新建学校12所。"]
    alone = systems["model"].predict_clauses(clauses)
    hybrid = systems["model+rules"].predict_clauses(clauses)
    assert tagger.calls == 1
    assert [[s.text for s in spans] for spans in alone] == [["35亿"], ["12"]]
    assert [[(s.label, s.text) for s in spans] for spans in hybrid] == [
        [("QUANTITY", "35亿"), ("UNIT", "元")],
        [("QUANTITY", "12"), ("UNIT", "所")],
    ]
    alone[0].clear()  # a caller's change never reaches the kept spans
    assert systems["model"].predict_clauses(clauses)[0][0].text == "35亿" and tagger.calls == 1
    systems["model"].predict_clauses(["另一句。"])
    assert tagger.calls == 2


# --------------------------------------------------------------------------- ensembles


def _window_logits(tagger, text: str) -> np.ndarray:
    """The logits of ``text``'s first window (a short text: its only one)."""
    encoding = tagger.aligner.encode(text)
    window = tagger.aligner.windows(encoding, word_tags=tagger._word_tags(text, encoding.spans))[0]
    return np.asarray(tagger._logits(tagger._pad([window])), dtype=np.float32)


@pytest.fixture(scope="session")
def other_char_checkpoint(tmp_path_factory) -> Path:
    """``char_checkpoint``'s twin with other random weights (another seed)."""
    return _checkpoint(tmp_path_factory.mktemp("tiny_char_other"), one_token_per_char=True, seed=5)


def test_an_ensemble_tags_with_the_mean_of_its_members_logits(char_checkpoint, other_char_checkpoint, predictor):
    members = [load_predictor(c, engine="torch", num_threads=1) for c in (char_checkpoint, other_char_checkpoint)]
    ensemble = load_predictor([char_checkpoint, other_char_checkpoint], engine="torch", num_threads=1)
    text = "到2025年新建学校12所，完成投资3.5亿元以上。"
    first, second = (_window_logits(m.tagger, text) for m in members)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(_window_logits(ensemble.tagger, text), (first + second) / 2, rtol=1e-5, atol=1e-6)
    assert ensemble.model_version == "ensemble(tiny-test, tiny-test)" and ensemble.engine == "torch x 2"
    assert ensemble.predict_documents([CRLF_TEXT]) != members[0].predict_documents([CRLF_TEXT])
    # one checkpoint twice is that checkpoint: the same spans and scores
    twice = load_predictor([char_checkpoint, char_checkpoint], engine="torch", num_threads=1)
    assert twice.predict_documents([CRLF_TEXT, LF_TEXT]) == predictor.predict_documents([CRLF_TEXT, LF_TEXT])


def test_an_ensemble_folder_loads_as_the_list_of_its_members(char_checkpoint, other_char_checkpoint, tmp_path):
    folder = tmp_path / "runs" / "e5_small" / "holdout-none"
    folder.mkdir(parents=True)
    write_ensemble_manifest(folder, [char_checkpoint, other_char_checkpoint], seeds=[42, 7])
    manifest = json.loads((folder / "ensemble.json").read_text(encoding="utf-8"))
    assert manifest["seeds"] == [42, 7] and not any(Path(m).is_absolute() for m in manifest["members"])
    assert [Path(p).resolve() for p in checkpoint_list(str(folder))] == [
        Path(c).resolve() for c in (char_checkpoint, other_char_checkpoint)
    ]
    listed = load_predictor([char_checkpoint, other_char_checkpoint], engine="torch", num_threads=1)
    as_folder = load_predictor(folder, engine="torch", num_threads=1)
    assert as_folder.engine == "torch x 2"
    assert as_folder.predict_documents([CRLF_TEXT, LF_TEXT]) == listed.predict_documents([CRLF_TEXT, LF_TEXT])
    shutil.copytree(folder, tmp_path / "moved")  # the members are found relative to the folder, or not at all
    with pytest.raises(FileNotFoundError, match="lists members that are not there"):
        load_predictor(tmp_path / "moved", engine="torch")


def test_an_ensemble_decodes_with_the_mean_crf_scores(char_checkpoint, other_char_checkpoint):
    members = [
        load_predictor(c, engine="torch", num_threads=1).tagger for c in (char_checkpoint, other_char_checkpoint)
    ]
    rng = np.random.default_rng(0)
    for member in members:
        member.crf = CrfScores(rng.normal(size=11), rng.normal(size=11), rng.normal(size=(11, 11)))
    mean = EnsembleTagger(members).crf
    np.testing.assert_allclose(mean.transitions, (members[0].crf.transitions + members[1].crf.transitions) / 2)
    np.testing.assert_allclose(mean.start, (members[0].crf.start + members[1].crf.start) / 2)
    members[1].crf = None
    with pytest.raises(ValueError, match="crf: True vs False"):
        EnsembleTagger(members)


def test_an_ensemble_refuses_members_whose_tokens_do_not_line_up(char_checkpoint, subword_checkpoint):
    with pytest.raises(ValueError, match="one_token_per_char: True vs False"):
        load_predictor([char_checkpoint, subword_checkpoint], engine="torch", num_threads=1)
    with pytest.raises(ValueError, match="rules cannot be a member"):
        load_predictor([char_checkpoint, "rules"], engine="torch")
    with pytest.raises(ValueError, match="empty list"):
        load_predictor([], engine="torch")
    with pytest.raises(ValueError, match="two or more"):
        EnsembleTagger([load_predictor(char_checkpoint, engine="torch").tagger])


@pytest.mark.slow
def test_an_onnx_ensemble_keeps_one_export_per_member_and_torchs_predictions(
    char_checkpoint, other_char_checkpoint, reports, tmp_path
):
    pytest.importorskip("onnxruntime")
    members = [char_checkpoint, other_char_checkpoint]
    torch_out, onnx_out = tmp_path / "t.jsonl", tmp_path / "o.jsonl"
    run_batch(load_predictor(members, engine="torch", num_threads=1), reports, torch_out, progress=False)
    onnx = load_predictor(members, engine="onnx", onnx_dir=tmp_path / "onnx", num_threads=1)
    summary = run_batch(onnx, reports, onnx_out, progress=False)
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == ["member-0", "member-1"]
    assert summary.engine == "onnx fp32 x 2" and onnx.model_version == "ensemble(tiny-test+onnx, tiny-test+onnx)"
    assert [_entity_keys(r) for r in _read_jsonl(onnx_out)] == [_entity_keys(r) for r in _read_jsonl(torch_out)]
