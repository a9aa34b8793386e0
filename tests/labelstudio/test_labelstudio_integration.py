"""Against a real Label Studio: serve, push seed tasks with rule pre-annotations, annotate, pull gold.

One server (a free loopback port, a temporary data dir) serves the whole module and is
stopped and removed at the end. Never skipped silently in CI: with ``CI`` set, a missing
``label-studio`` or a server that does not start is a failure carrying the server's log.
Outside CI the tests skip only when ``label-studio`` is not installed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import labelstudio_api

from govreport_ner import labelstudio as lsc
from govreport_ner.annotation.labelstudio_format import read_export
from govreport_ner.data.dataset import build_dataset
from govreport_ner.spans import Span
from govreport_ner.text.seeds import load_seed_documents, metadata_by_file

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
LABEL_CONFIG = ROOT / "annotations" / "label_config.xml"
HOST = "127.0.0.1"
API = labelstudio_api()
START_TIMEOUT = 300.0  # first start runs the migrations: ~35 s on 2 cores, more on a busy CI runner


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running Label Studio with a fresh SQLite database; stopped and removed afterwards."""
    in_ci = bool(os.environ.get("CI"))
    if not lsc.label_studio_installed():
        if in_ci:
            pytest.fail("CI is set but label-studio is not installed: pip install -e '.[server]'", pytrace=False)
        pytest.skip("label-studio is not installed (pip install -e '.[server]')")
    data_dir = tmp_path_factory.mktemp("labelstudio-data")
    env = {
        **os.environ,
        lsc.ENV_USERNAME: "annotator@example.com",
        lsc.ENV_PASSWORD: secrets.token_urlsafe(16),
        lsc.ENV_USER_TOKEN: secrets.token_hex(20),
    }
    env.pop(lsc.ENV_API_KEY, None)  # a developer's own token must not stand in for the test server's
    try:
        server = lsc.start_server(data_dir, lsc.free_port(HOST), HOST, START_TIMEOUT, API, env=env)
    except lsc.LabelStudioError as err:  # ServerStartError carries the tail of the server log
        shutil.rmtree(data_dir, ignore_errors=True)
        pytest.fail(f"Label Studio did not start{' (CI)' if in_ci else ''}:\n{err}", pytrace=False)
    print(f"\nLabel Studio up at {server.url} in {server.started_in:.1f} s")
    try:
        yield server
    finally:
        server.stop()
        assert not server.running()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def client(server):
    return server.client()


@pytest.fixture(scope="module")
def metadata():
    return metadata_by_file(SEEDS, None)


@pytest.fixture(scope="module")
def documents():
    return {doc.id: doc for doc, _meta in load_seed_documents(SEEDS)}


def project_tasks(client, project_id):
    return list(client.tasks.list(project=project_id, fields="all", page_size=20))  # small pages: paging works


def test_server_is_healthy_and_loopback_only(server):
    assert lsc.health_ok(server.url, API.health_timeout)
    assert re.match(r"http://127\.0\.0\.1:\d+$", server.url)
    assert f"127.0.0.1:{server.port}" in server.log_tail(200)
    assert lsc.check_auth(server.client(), server.url) == "annotator@example.com"
    with pytest.raises(lsc.LabelStudioError, match="in use"):  # the port is taken: refused before launching
        second, env = server.data_dir / "second", dict(os.environ, **credentials(server))
        lsc.start_server(second, server.port, HOST, START_TIMEOUT, API, env=env)


def test_a_personal_access_token_works_too(server):
    token = server.client().tokens.create().token  # what Account & Settings > Personal Access Token shows
    client = lsc.connect(server.url, token, API, env={})
    assert not client._client_wrapper._tokens_client._use_legacy_token  # a JWT: refreshed, sent as Bearer
    assert lsc.check_auth(client, server.url) == "annotator@example.com"


def credentials(server):
    return {lsc.ENV_USERNAME: "x@example.com", lsc.ENV_PASSWORD: "pw", lsc.ENV_USER_TOKEN: server.api_key}


def test_push_rule_predictions_is_idempotent(client, metadata, documents):
    first = lsc.push(client, SEEDS, API, "it-document", "document", "rules", LABEL_CONFIG, metadata=metadata)
    assert (first.project, first.imported, first.unchanged, first.model_version) == ("created", 5, 0, "rules-0.1")
    tasks = project_tasks(client, first.project_id)
    assert sorted(t.data["doc_id"] for t in tasks) == sorted(documents)
    for task in tasks:
        assert task.data["text"] == documents[task.data["doc_id"]].text  # stored character for character
        (prediction,) = task.predictions
        assert prediction.model_version == "rules-0.1" and prediction.score is not None
        assert prediction.result, task.data["doc_id"]
        for item in prediction.result:
            value = item["value"]
            assert task.data["text"][value["start"] : value["end"]] == value["text"]
    assert client.projects.get(first.project_id).model_version == "rules-0.1"

    again = lsc.push(client, SEEDS, API, "it-document", "document", "rules", LABEL_CONFIG, metadata=metadata)
    assert (again.project_id, again.project, again.imported, again.unchanged) == (first.project_id, "found", 0, 5)
    assert len(project_tasks(client, first.project_id)) == 5

    # a model plugged in as a callable: its predictions go onto the existing tasks, once
    def model(text: str) -> list[Span]:
        return [Span(0, 2, "PROGRAM", text[:2], 0.42)]

    with_model = lsc.push(client, SEEDS, API, "it-document", "document", model, LABEL_CONFIG, "fake-model-1", metadata)
    assert (with_model.imported, with_model.predictions_added) == (0, 5)
    again = lsc.push(client, SEEDS, API, "it-document", "document", model, LABEL_CONFIG, "fake-model-1", metadata)
    assert (again.imported, again.predictions_added, again.unchanged) == (0, 0, 5)
    tasks = project_tasks(client, first.project_id)
    assert len(tasks) == 5
    for task in tasks:
        versions = {p.model_version: p for p in task.predictions}
        assert set(versions) == {"rules-0.1", "fake-model-1"}
        assert versions["fake-model-1"].score == pytest.approx(0.42)
    assert client.projects.get(first.project_id).model_version == "fake-model-1"

    # per-paragraph tasks would overlap the per-document ones: refused, nothing imported
    with pytest.raises(lsc.PushConflict, match="overlaps"):
        lsc.push(client, SEEDS, API, "it-document", "paragraph", "rules", LABEL_CONFIG, metadata=metadata)
    assert len(project_tasks(client, first.project_id)) == 5


def uncovered_pair(text: str, spans: list[dict]) -> tuple[int, int]:
    """Two adjacent CJK characters that no span touches (a span an annotator adds)."""
    covered = {i for s in spans for i in range(s["value"]["start"], s["value"]["end"])}
    for i in range(len(text) - 1):
        if {i, i + 1}.isdisjoint(covered) and all("\u4e00" <= c <= "\u9fff" for c in text[i : i + 2]):
            return i, i + 2
    raise AssertionError("no free pair of characters")


def test_annotate_pull_roundtrip(client, metadata, documents, tmp_path):
    pushed = lsc.push(client, SEEDS, API, "it-paragraph", "paragraph", "rules", LABEL_CONFIG, metadata=metadata)
    assert pushed.imported > 5
    tasks = project_tasks(client, pushed.project_id)
    assert len(tasks) == pushed.imported
    task = max(tasks, key=lambda t: len(t.predictions[0].result))  # the paragraph with most suggestions
    prediction = task.predictions[0]
    text = task.data["text"]

    # the annotator accepts two suggestions and adds one span of their own
    kept = [dict(item, origin="prediction") for item in prediction.result[:2]]
    start, end = uncovered_pair(text, prediction.result)
    added = {
        "id": "added1",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": ["PROJECT"]},
    }
    annotation = client.annotations.create(
        id=task.id, result=[*kept, added], lead_time=42.0, parent_prediction=prediction.id
    )
    expected = sorted(
        Span(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
        for r in [*kept, added]
    )

    pulls = tmp_path / "pulls"
    result = lsc.pull(client, "it-paragraph", pulls, API)
    assert result.path.parent == pulls and lsc.PULL_RE.match(result.path.name)
    assert result.tasks == 1 and result.entities == 3
    assert len(result.report.skipped) == len(tasks) - 1  # unannotated tasks are reported, not gold
    assert result.diff.previous is None
    assert f"{len(tasks) - 1} task(s) without annotation skipped" in result.summary()

    # the spans come back character-exact, in task and in document offsets
    (gold,) = read_export(result.path)[0]
    assert (gold.doc_id, gold.offset, gold.text) == (task.data["doc_id"], task.data["offset"], text)
    assert gold.annotation_id == str(annotation.id)
    assert sorted(gold.spans) == expected
    assert [(s.start, s.end, s.label, s.text) for s in sorted(gold.spans)] == [
        (s.start, s.end, s.label, s.text) for s in expected
    ]
    document = documents[gold.doc_id].text
    for span in gold.document_spans():
        assert document[span.start : span.end] == span.text
    raw = json.loads(result.path.read_text(encoding="utf-8"))
    assert [t["id"] for t in raw] == [task.id]

    # ... and build_dataset accepts them
    dataset = build_dataset([gold])
    assert sum(len(row["spans"]) for row in dataset) == 3
    for row in dataset:
        for span in row["spans"]:
            assert document[row["start"] + span["start"] : row["start"] + span["end"]] == span["text"]

    # the annotator relabels a span and annotates a second task: the next pull says so
    relabelled = [*kept, dict(added, value={**added["value"], "labels": ["PROGRAM"]})]
    client.annotations.update(id=annotation.id, result=relabelled)
    other = next(t for t in tasks if t.id != task.id)
    client.annotations.create(id=other.id, result=[], lead_time=3.0)  # annotated: nothing to mark
    second = lsc.pull(client, "it-paragraph", pulls, API)
    assert second.path.parent == pulls and second.path.name != result.path.name
    # the first pull moved to history/, untouched; the folder holds the latest snapshot only
    kept = pulls / "history" / result.path.name
    assert second.archived == [kept] and not result.path.exists()
    assert json.loads(kept.read_text(encoding="utf-8")) == raw
    assert sorted(pulls.glob("*.json")) == [second.path]
    assert lsc.pull_files(pulls) == [kept, second.path]
    assert second.diff.previous == result.path.name
    assert second.diff.counts() == {
        "tasks": {"added": 1, "removed": 0, "changed": 1},
        "annotations": {"added": 1, "removed": 0, "changed": 1},
        "entities": {"added": 0, "removed": 0, "changed": 1},
    }
    assert "PROJECT -> PROGRAM" in second.summary()
    tasks2, _report = read_export(pulls)  # data.gold=<pulls folder>: each task once
    assert sorted(t.task_id for t in tasks2) == sorted([str(task.id), str(other.id)])
    assert len(build_dataset(tasks2)) >= 2

    table = lsc.status(client, "it-paragraph", API)
    region = task.data["region"]
    assert table["total"]["tasks"] == len(tasks) and table["total"]["annotated"] == 2
    assert table["total"]["entities"] == 3 and table[region]["PROGRAM"] >= 1
    assert table["total"]["PROJECT"] + table["total"]["PROGRAM"] >= 1


def test_cli_push_and_status(server):
    env = {**os.environ, lsc.ENV_URL: server.url, lsc.ENV_API_KEY: server.api_key}
    env.pop(lsc.ENV_USER_TOKEN, None)

    def cli(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "labelstudio.py"), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout

    out = cli("push", "--inputs", "seeds", "--title", "it-cli")
    assert "imported 5 new task(s) with rules-0.1 predictions" in out
    assert "imported 0 new task(s)" in cli("push", "--inputs", "seeds", "--title", "it-cli")
    status = cli("status", "--title", "it-cli")
    assert "| **total** | 5 | 0 | 0 |" in status and "| 浚县 | 1 | 0 | 0 |" in status


def test_corpus_excerpts_push_and_come_back_as_standoff(client, tmp_path):
    """Excerpt tasks carry source, offset and sha256; their annotations are pulled as standoff, no text."""
    from govreport_ner.annotation.corpus_gold import load_corpus_gold
    from govreport_ner.annotation.excerpts import Excerpt, sha256_text, write_excerpts_csv

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    report = "各位代表：\n今年主要预期目标是：新增城镇就业1.2万人，年底前建成市民中心。\n完成造林2万亩。\n"
    (corpus / "甲市.txt").write_text(report, encoding="utf-8")
    start, end = report.index("今年"), report.index("完成造林") - 1
    excerpt = Excerpt("c_000", "甲市.txt", start, end, sha256_text(report[start:end]), "甲市", "乙省", 2024, "headline")
    write_excerpts_csv([excerpt], tmp_path / "excerpts.csv")

    pushed = lsc.push(
        client,
        "unused",
        API,
        "it-excerpts",
        "document",
        "rules",
        LABEL_CONFIG,
        excerpts=tmp_path / "excerpts.csv",
        corpus_dir=corpus,
    )
    assert pushed.imported == 1
    (task,) = project_tasks(client, pushed.project_id)
    assert task.data["sha256"] == excerpt.sha256 and task.data["offset"] == start
    text = task.data["text"]
    at = text.index("1.2万")
    client.annotations.create(
        id=task.id,
        result=[
            {
                "id": "q1",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {"start": at, "end": at + 4, "text": "1.2万", "labels": ["QUANTITY"]},
            }
        ],
        lead_time=5.0,
    )
    result = lsc.pull(client, "it-excerpts", tmp_path / "pulls", API, tmp_path / "standoff")
    assert result.tasks == 0 and [p.name for p in result.standoff] == ["c_000.json"]
    assert "新增城镇就业" not in result.standoff[0].read_text(encoding="utf-8")
    (gold,) = load_corpus_gold(tmp_path / "standoff", corpus)
    assert [(s.start, s.end, s.label, s.text) for s in gold.spans] == [(at, at + 4, "QUANTITY", "1.2万")]
