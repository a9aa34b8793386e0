"""Unit tests (no server) for the Label Studio client: idempotency keys, the push plan, pull diffs, status."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpers import labelstudio_api

from govreport_ner import labelstudio as lsc
from govreport_ner.annotation.labelstudio_format import document_tasks, make_task
from govreport_ner.spans import Span
from govreport_ner.text.reader import Document

API = labelstudio_api()

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


# ---------------------------------------------------------------- idempotency key and push plan


def task(doc_id: str, offset: int, text: str, version: str | None = None) -> dict:
    t = make_task(text, doc_id, "R", offset)
    if version:
        t["predictions"] = [{"model_version": version, "score": 1.0, "result": []}]
    return t


def test_task_key_is_doc_id_and_offset():
    assert lsc.task_key({"doc_id": "a", "offset": 12, "text": "x"}) == ("a", 12)
    assert lsc.task_key({"doc_id": 7, "text": "x"}) == ("7", 0)  # offset defaults to 0, ids are strings
    assert lsc.task_key({"doc_id": "a", "offset": "3"}) == ("a", 3)


def test_plan_push_imports_everything_into_an_empty_project():
    plan = lsc.plan_push([task("a", 0, "一二"), task("a", 3, "三四"), task("b", 0, "五")], [])
    assert [lsc.task_key(t["data"]) for t in plan.to_import] == [("a", 0), ("a", 3), ("b", 0)]
    assert not plan.conflicts and not plan.unchanged and not plan.add_predictions


def test_plan_push_twice_imports_nothing():
    tasks = [task("a", 0, "一二", "rules-0.1"), task("b", 0, "五", "rules-0.1")]
    existing = [
        lsc.ExistingTask(11, "a", 0, "一二", frozenset({"rules-0.1"})),
        lsc.ExistingTask(12, "b", 0, "五", frozenset({"rules-0.1"})),
    ]
    plan = lsc.plan_push(tasks, existing, "rules-0.1")
    assert plan.to_import == [] and plan.add_predictions == [] and plan.conflicts == []
    assert plan.unchanged == [11, 12]


def test_plan_push_adds_a_new_model_versions_predictions_to_existing_tasks_only_once():
    tasks = [task("a", 0, "一二", "model-2")]
    plan = lsc.plan_push(tasks, [lsc.ExistingTask(11, "a", 0, "一二", frozenset({"rules-0.1"}))], "model-2")
    assert plan.to_import == [] and plan.add_predictions == [(11, tasks[0]["predictions"][0])]
    plan = lsc.plan_push(tasks, [lsc.ExistingTask(11, "a", 0, "一二", frozenset({"rules-0.1", "model-2"}))], "model-2")
    assert plan.add_predictions == [] and plan.unchanged == [11]


def test_plan_push_key_ignores_other_fields_and_other_documents():
    tasks = [task("a", 0, "一二"), task("b", 0, "一二")]
    tasks[0]["data"]["source"] = "elsewhere.txt"  # only doc_id + offset (+ text check) matter
    plan = lsc.plan_push(tasks, [lsc.ExistingTask(11, "a", 0, "一二")])
    assert plan.unchanged == [11] and [lsc.task_key(t["data"]) for t in plan.to_import] == [("b", 0)]


def test_plan_push_conflicts():
    existing = [lsc.ExistingTask(11, "a", 0, "一二三四五六")]  # a per-document task
    # the same key with another text; a paragraph inside the document; a key twice in the push
    tasks = [task("a", 0, "一二"), task("a", 3, "四五"), task("b", 0, "x"), task("b", 0, "x")]
    plan = lsc.plan_push(tasks, existing)
    assert len(plan.conflicts) == 3, plan.conflicts
    assert "another text" in plan.conflicts[0]
    assert "overlaps project task 11" in plan.conflicts[1]
    assert "pushed twice" in plan.conflicts[2]
    # a task just after the document's text does not overlap
    assert not lsc.plan_push([task("a", 6, "七")], existing).conflicts


def test_plan_push_checks_overlaps_within_one_push():
    plan = lsc.plan_push([task("a", 0, "一二三"), task("a", 2, "三四")], [])
    assert len(plan.conflicts) == 1 and "overlaps pushed task a@0" in plan.conflicts[0]


def test_push_conflict_message_lists_conflicts():
    err = lsc.PushConflict([f"c{i}" for i in range(25)])
    assert "25 task(s)" in str(err) and "c19" in str(err) and "5 more" in str(err) and "c20" not in str(err)


# ---------------------------------------------------------------- predictors and tasks


def test_resolve_predictor_rules_callable_and_object():
    predict, version = lsc.resolve_predictor("rules")
    assert version == "rules-0.1" and predict("到2025年新增5000亩")

    def fake(text: str) -> list[Span]:
        return [Span(0, 1, "QUANTITY", text[0], 0.5)]

    assert lsc.resolve_predictor(fake)[1] == "fake"
    assert lsc.resolve_predictor(fake, "m-1")[1] == "m-1"

    class Model:
        model_version = "ckpt-7"

        def predict_spans(self, text: str) -> list[Span]:
            return []

    assert lsc.resolve_predictor(Model())[1] == "ckpt-7"


def test_checkpoint_path_goes_through_inference_load_predictor(tmp_path, monkeypatch):
    calls = []

    class Predictor:
        model_version = "e5-small@abc"

        def predict_spans(self, text: str) -> list[Span]:
            return [Span(0, 1, "QUANTITY", text[0], 0.9)]

    def load_predictor(path):
        calls.append(path)
        return Predictor()

    monkeypatch.setitem(
        sys.modules, "govreport_ner.predict.predictors", types.SimpleNamespace(load_predictor=load_predictor)
    )
    predict, version = lsc.resolve_predictor(str(tmp_path))
    assert calls == [str(tmp_path)] and version == "e5-small@abc" and predict("5") == [Span(0, 1, "QUANTITY", "5")]


def test_checkpoint_path_errors_are_clear(tmp_path, monkeypatch):
    with pytest.raises(lsc.LabelStudioError, match="does not exist"):
        lsc.resolve_predictor(tmp_path / "missing")
    monkeypatch.setitem(sys.modules, "govreport_ner.predict.predictors", None)  # not importable
    with pytest.raises(lsc.LabelStudioError, match=r"govreport_ner\.predict\.predictors.*cannot be imported"):
        lsc.resolve_predictor(tmp_path)
    monkeypatch.setitem(sys.modules, "govreport_ner.predict.predictors", types.SimpleNamespace())
    with pytest.raises(lsc.LabelStudioError, match="no load_predictor"):
        lsc.resolve_predictor(tmp_path)


def test_checked_spans_reads_text_and_rejects_bad_spans():
    assert lsc.checked_spans("一二三", [Span(1, 3, "UNIT", "", 0.9)]) == [Span(1, 3, "UNIT", "二三", 0.9)]
    assert lsc.checked_spans("一二三", [Span(1, 3, "UNIT", "", 0.9)])[0].text == "二三"
    with pytest.raises(ValueError, match="invalid span"):
        lsc.checked_spans("一二三", [Span(1, 4, "UNIT")])
    with pytest.raises(ValueError, match="invalid span"):
        lsc.checked_spans("一二三", [Span(0, 1, "PERSON")])


def test_build_tasks_from_seeds_use_metadata_and_carry_predictions():
    from govreport_ner.text.seeds import metadata_by_file

    def scored(text: str) -> list[Span]:
        return [Span(0, 2, "PROGRAM", text[:2], 0.25), Span(5, 6, "UNIT", text[5:6], 0.75)]

    tasks, failed = lsc.build_tasks(SEEDS, "paragraph", scored, "m-1", metadata_by_file(SEEDS, None))
    assert not failed
    assert {t["data"]["doc_id"] for t in tasks} == {
        "yangquan_jiaoqu_2023",
        "lueyang_2023",
        "xunxian_2022",
        "qiqihar_2022",
        "dongxing_2023",
    }
    keys = [lsc.task_key(t["data"]) for t in tasks]
    assert len(keys) == len(set(keys))
    first = tasks[0]
    assert first["data"]["offset"] == 0 and first["data"]["region"] == "阳泉市郊区"
    (prediction,) = first["predictions"]
    assert prediction["model_version"] == "m-1" and prediction["score"] == 0.5
    assert [r["score"] for r in prediction["result"]] == [0.25, 0.75]


# ---------------------------------------------------------------- pull diff


def exported(task_id, doc_id, offset, spans, annotation_id=1, updated="2025-01-01T00:00:00Z", cancelled=False):
    """A task in Label Studio's export shape; spans are (start, end, label, text)."""
    annotations = []
    if spans is not None:
        annotations.append(
            {
                "id": annotation_id,
                "was_cancelled": cancelled,
                "updated_at": updated,
                "result": [
                    {
                        "type": "labels",
                        "from_name": "label",
                        "to_name": "text",
                        "value": {"start": s, "end": e, "labels": [label], "text": text},
                    }
                    for s, e, label, text in spans
                ],
            }
        )
    data = {"text": "x" * 50, "doc_id": doc_id, "region": "R", "offset": offset}
    return {"id": task_id, "data": data, "annotations": annotations}


def test_first_pull_diff():
    diff = lsc.diff_pulls(None, [exported(1, "a", 0, [(0, 2, "UNIT", "xx")]), exported(2, "a", 50, None)])
    assert diff.previous is None
    assert diff.counts()["tasks"]["added"] == 1  # the unannotated task is not gold
    assert diff.summary() == "first pull: 1 annotated tasks, 1 entities"


def test_pull_diff_counts_added_removed_changed():
    old = [
        exported(1, "a", 0, [(0, 2, "UNIT", "xx"), (3, 5, "QUANTITY", "xx")], annotation_id=10),
        exported(2, "a", 50, [(1, 2, "UNIT", "x")], annotation_id=20),
        exported(3, "b", 0, [(0, 1, "UNIT", "x")], annotation_id=30),
    ]
    new = [
        # task 1: annotation edited: one entity relabelled, one removed, one added
        exported(
            1, "a", 0, [(0, 2, "PROJECT", "xx"), (7, 9, "DEADLINE", "xx")], annotation_id=10, updated="2025-02-01"
        ),
        exported(2, "a", 50, [(1, 2, "UNIT", "x")], annotation_id=20),  # unchanged
        # task 3 gone (deleted in Label Studio); task 4 newly annotated
        exported(4, "c", 0, [(0, 3, "PROGRAM", "xxx")], annotation_id=40),
    ]
    diff = lsc.diff_pulls(old, new, "labelstudio-20250101T000000Z.json")
    assert diff.counts() == {
        "tasks": {"added": 1, "removed": 1, "changed": 1},
        "annotations": {"added": 1, "removed": 1, "changed": 1},
        "entities": {"added": 2, "removed": 2, "changed": 1},
    }
    assert diff.tasks == {"added": ["c@0"], "removed": ["b@0"], "changed": ["a@0"]}
    assert diff.entities["changed"] == ["a@0 0-2 'xx': UNIT -> PROJECT"]
    assert "a@0 DEADLINE 7-9 'xx'" in diff.entities["added"]
    assert "a@0 QUANTITY 3-5 'xx'" in diff.entities["removed"]
    text = diff.summary()
    assert text.startswith("since labelstudio-20250101T000000Z.json:")
    assert "entities     +2 added, -2 removed, ~1 changed" in text


def test_pull_diff_no_changes_and_cancelled_annotations():
    same = [exported(1, "a", 0, [(0, 2, "UNIT", "xx")])]
    diff = lsc.diff_pulls(same, json.loads(json.dumps(same)), "prev.json")
    assert diff.unchanged and diff.summary() == "since prev.json: no changes"
    cancelled = [exported(1, "a", 0, [(0, 2, "UNIT", "xx")], cancelled=True)]
    diff = lsc.diff_pulls(same, cancelled, "prev.json")
    assert diff.tasks["removed"] == ["a@0"] and diff.entities["removed"] == ["a@0 UNIT 0-2 'xx'"]


def test_pull_diff_a_second_annotation_is_an_added_annotation():
    old = [exported(1, "a", 0, [(0, 2, "UNIT", "xx")], annotation_id=10)]
    new = json.loads(json.dumps(old))
    second = dict(new[0]["annotations"][0], id=11, updated_at="2025-03-01T00:00:00Z")
    new[0]["annotations"].append(second)
    diff = lsc.diff_pulls(old, new, "p")
    assert diff.annotations["added"] == ["11 (a@0)"] and not diff.entities["added"]


def test_pull_paths_never_overwrite_and_sort_by_time(tmp_path):
    now = datetime(2025, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    first = lsc.new_pull_path(tmp_path, now)
    assert first.name == "labelstudio-20250506T070809Z.json"
    lsc.write_new_file(first, [])
    second = lsc.new_pull_path(tmp_path, now)
    assert second.name == "labelstudio-20250506T070809Z-1.json"
    lsc.write_new_file(second, [1])
    with pytest.raises(FileExistsError):
        lsc.write_new_file(second, [2])
    assert json.loads(second.read_text()) == [1]
    older = tmp_path / "labelstudio-20240101T000000Z.json"
    older.write_text("[]")
    (tmp_path / "notes.json").write_text("[]")
    assert [p.name for p in lsc.pull_files(tmp_path)] == [older.name, first.name, second.name]
    assert lsc.pull_files(tmp_path / "missing") == []


def test_archive_pulls_keeps_only_the_latest_at_the_top(tmp_path):
    names = ["labelstudio-20240101T000000Z.json", "labelstudio-20250101T000000Z.json"]
    for n, name in enumerate(names):
        (tmp_path / name).write_text(json.dumps([n]))
    (tmp_path / "other.json").write_text("[]")  # not a pull: left alone
    latest = lsc.write_new_file(tmp_path / "labelstudio-20260101T000000Z.json", [2])
    moved = lsc.archive_pulls(tmp_path, latest)
    assert [p.name for p in moved] == names and all(p.parent.name == "history" for p in moved)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [latest.name, "other.json"]
    assert [json.loads(p.read_text()) for p in lsc.pull_files(tmp_path)] == [[0], [1], [2]]
    # a new name is never one that history already holds
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert lsc.new_pull_path(tmp_path, now).name == "labelstudio-20240101T000000Z-1.json"
    # a clash in history is an error, nothing is overwritten
    (tmp_path / names[0]).write_text("[9]")
    with pytest.raises(lsc.LabelStudioError, match="exists"):
        lsc.archive_pulls(tmp_path, latest)
    assert json.loads((tmp_path / "history" / names[0]).read_text()) == [0]


# ---------------------------------------------------------------- status and environment


def test_status_table_per_region():
    export = [
        exported(1, "a", 0, [(0, 2, "UNIT", "xx"), (3, 5, "QUANTITY", "xx")]),
        exported(2, "a", 50, None),
        exported(3, "b", 0, [(0, 1, "UNIT", "x")], cancelled=True),
    ]
    export[2]["data"]["region"] = "S"
    table = lsc.status_table(export)
    assert table["R"] == {"tasks": 2, "annotated": 1, "entities": 2, "QUANTITY": 1, "UNIT": 1} | {
        "DEADLINE": 0,
        "PROJECT": 0,
        "PROGRAM": 0,
    }
    assert table["S"]["tasks"] == 1 and table["S"]["annotated"] == 0
    assert table["total"]["tasks"] == 3 and table["total"]["entities"] == 2
    assert "| **total** | 3 | 1 | 2 |" in lsc.format_status(table)


def test_server_env_names_missing_variables(tmp_path):
    with pytest.raises(lsc.MissingEnvironment) as info:
        lsc.server_env(tmp_path, {lsc.ENV_USERNAME: "a@b.c"})
    assert info.value.names == [lsc.ENV_PASSWORD, lsc.ENV_USER_TOKEN]
    assert "LABEL_STUDIO_PASSWORD, LABEL_STUDIO_USER_TOKEN" in str(info.value)
    creds = {lsc.ENV_USERNAME: "a@b.c", lsc.ENV_PASSWORD: "pw", lsc.ENV_USER_TOKEN: "short"}
    with pytest.raises(lsc.LabelStudioError, match="at least"):
        lsc.server_env(tmp_path, creds)
    env = lsc.server_env(tmp_path, {**creds, lsc.ENV_USER_TOKEN: "long-enough-token"})
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path.absolute())
    assert env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"
    assert env["LABEL_STUDIO_SENTRY_DSN"] == "" and env["LABEL_STUDIO_LATEST_VERSION_CHECK"] == "false"


def test_start_server_refuses_non_loopback_hosts(tmp_path):
    with pytest.raises(lsc.LabelStudioError, match="loopback"):
        lsc.start_server(tmp_path, 8080, "0.0.0.0", 1.0, API)


def test_connect_names_the_token_variables():
    with pytest.raises(lsc.MissingEnvironment, match="LABEL_STUDIO_API_KEY, LABEL_STUDIO_USER_TOKEN"):
        lsc.connect("http://127.0.0.1:1", None, API, env={})


def test_paragraph_task_keys_are_document_offsets():
    tasks = document_tasks(Document("d", "第一段\n第二段"), "R", "paragraph")
    assert [lsc.task_key(t["data"]) for t in tasks] == [("d", 0), ("d", 4)]
    assert lsc.task_key(document_tasks(Document("d", "第一段\n第二段"), "R")[0]["data"]) == ("d", 0)


def test_connect_fails_clearly_when_no_server_answers():
    with pytest.raises(lsc.LabelStudioError, match="no Label Studio answers at http://127.0.0.1:1"):
        lsc.connect(f"http://127.0.0.1:{1}", "token", API, env={})


def test_wait_for_health_reports_an_exited_server_with_its_log(tmp_path):
    log = tmp_path / "server.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-c", "print('django.db.utils.OperationalError: boom'); raise SystemExit(3)"],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    process.wait(30)
    with pytest.raises(lsc.ServerStartError) as info:
        lsc.wait_for_health(f"http://127.0.0.1:{lsc.free_port('127.0.0.1')}", 30, API, process, log)
    assert "exited with code 3" in str(info.value) and "OperationalError: boom" in info.value.log_tail


def test_wait_for_health_times_out_with_the_log_tail(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("\n".join(f"line {i}" for i in range(100)))
    with pytest.raises(lsc.ServerStartError, match="not healthy after") as info:
        fast = replace(API, poll_interval=0.05)
        lsc.wait_for_health(f"http://127.0.0.1:{lsc.free_port('127.0.0.1')}", 0.2, fast, None, log)
    assert info.value.log_tail.splitlines() == [f"line {i}" for i in range(40, 100)]
