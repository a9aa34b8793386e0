"""govreport_ner.annotation.labelstudio_format: labeling config, tasks, predictions, and the export reader."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from govreport_ner.annotation.labelstudio_format import (
    DRIFT_WINDOW,
    FROM_NAME,
    TO_NAME,
    AnnotatedTask,
    ExportValidationError,
    add_prediction,
    choose_annotation,
    config_labels,
    document_tasks,
    make_prediction,
    make_task,
    paragraphs,
    parse_export,
    read_export,
    span_to_result,
    to_export_task,
    write_tasks,
)
from govreport_ner.labels import LABELS
from govreport_ner.spans import Span, span_from_text
from govreport_ner.text.reader import Document

TEXT = "完成新造林1万亩，优良天数比例达75%以上。打好蓝天保卫战。"


@pytest.fixture(scope="module")
def config_xml(repo_root) -> str:
    return (repo_root / "annotations" / "label_config.xml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def label_interface(config_xml):
    interface = pytest.importorskip("label_studio_sdk.label_interface")
    return interface.LabelInterface(config_xml)


def spans_of(text: str) -> list[Span]:
    q = text.index("1万")
    p = text.index("75")
    b = text.index("蓝天保卫战")
    return [
        span_from_text(text, q, q + 2, "QUANTITY", 0.9),
        span_from_text(text, q + 2, q + 3, "UNIT", 0.7),
        span_from_text(text, p, p + 2, "QUANTITY", 0.8),
        span_from_text(text, p + 2, p + 3, "UNIT", 0.6),
        span_from_text(text, b, b + 5, "PROGRAM"),
    ]


def key(spans):
    return [(s.start, s.end, s.label, s.text) for s in spans]


# ---------------------------------------------------------------- labeling config


def test_label_config_declares_exactly_the_five_labels(config_xml):
    root = ET.fromstring(config_xml)
    labels_tags = root.findall(".//Labels")
    assert len(labels_tags) == 1
    labels_tag = labels_tags[0]
    assert [label.get("value") for label in labels_tag.findall("Label")] == list(LABELS)
    assert config_labels(config_xml) == list(LABELS)
    assert labels_tag.get("name") == FROM_NAME == "label"
    assert labels_tag.get("toName") == TO_NAME == "text"
    texts = root.findall(".//Text")
    assert len(texts) == 1
    assert texts[0].get("name") == TO_NAME
    assert texts[0].get("value") == "$text"
    assert texts[0].get("granularity") == "symbol"


def test_label_config_parsed_by_the_sdk(label_interface):
    control = label_interface.get_control(FROM_NAME)
    assert control.tag == "Labels"
    assert control.to_name == [TO_NAME]
    assert sorted(control.labels) == sorted(LABELS)
    assert label_interface.get_object(TO_NAME).tag == "Text"


def test_config_labels_regex():
    assert config_labels('<Labels><Label value="A"/><Label  value="B" background="red"/></Labels>') == ["A", "B"]
    assert config_labels("<View/>") == []


# ---------------------------------------------------------------- tasks and predictions


def test_make_task_and_document_tasks():
    assert make_task("甲", "d", "浚县", 3, {"source": "x.txt"}) == {
        "data": {"text": "甲", "doc_id": "d", "region": "浚县", "offset": 3, "source": "x.txt"}
    }
    text = "第一段：完成新造林1万亩。\r\n\r\n  \n第二段：打好蓝天保卫战。\n第三段"
    doc = Document("d1", text)
    (whole,) = document_tasks(doc, "浚县")
    assert whole["data"] == {"text": text, "doc_id": "d1", "region": "浚县", "offset": 0}
    paras = document_tasks(doc, "浚县", per="paragraph", extra={"source": "f.txt"})
    assert [t["data"]["paragraph"] for t in paras] == [0, 1, 2]
    assert [t["data"]["text"] for t in paras] == ["第一段：完成新造林1万亩。", "第二段：打好蓝天保卫战。", "第三段"]
    for task in paras:
        data = task["data"]
        assert text[data["offset"] : data["offset"] + len(data["text"])] == data["text"]
        assert data["source"] == "f.txt" and data["region"] == "浚县"
    with pytest.raises(ValueError, match="per must be"):
        document_tasks(doc, per="sentence")


def test_paragraphs_skip_blank_lines():
    text = "甲\r\n \t\n乙乙\n\n"
    assert paragraphs(text) == [(0, 1), (6, 8)]


def test_prediction_shape():
    spans = spans_of(TEXT)
    task = add_prediction(make_task(TEXT, "d", "浚县"), spans, "rules-0.1")
    assert set(task) == {"data", "predictions"}
    (prediction,) = task["predictions"]
    assert prediction["model_version"] == "rules-0.1"
    assert prediction["score"] == pytest.approx((0.9 + 0.7 + 0.8 + 0.6) / 4, abs=1e-4)
    assert len(prediction["result"]) == len(spans)
    for item, span in zip(prediction["result"], spans, strict=True):
        assert item["from_name"] == FROM_NAME and item["to_name"] == TO_NAME
        assert item["type"] == "labels"
        value = item["value"]
        assert value == {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]}
        assert TEXT[value["start"] : value["end"]] == value["text"]
        assert ("score" in item) == (span.score is not None)
    assert len({item["id"] for item in prediction["result"]}) == len(spans)
    # a second prediction is appended, the first kept
    again = add_prediction(task, spans[:1], "model-2")
    assert [p["model_version"] for p in again["predictions"]] == ["rules-0.1", "model-2"]
    assert make_prediction([], "m") == {"model_version": "m", "score": 1.0, "result": []}


def test_prediction_offsets_are_local_to_a_paragraph_task():
    text = "标题\n" + TEXT + "\n结尾1万亩"
    doc = Document("d", text)
    spans = spans_of(text)
    tail = text.rindex("1万")
    spans.append(span_from_text(text, tail, tail + 2, "QUANTITY"))
    spans.append(span_from_text(text, 1, 4, "PROGRAM"))  # crosses a line break: in no paragraph task
    tasks = [add_prediction(t, spans, "rules-0.1") for t in document_tasks(doc, per="paragraph")]
    results = [t["predictions"][0]["result"] for t in tasks]
    assert [len(r) for r in results] == [0, 5, 1]
    for task, result in zip(tasks, results, strict=True):
        for item in result:
            value = item["value"]
            assert task["data"]["text"][value["start"] : value["end"]] == value["text"]
    assert results[2][0]["value"] == {"start": 2, "end": 4, "text": "1万", "labels": ["QUANTITY"]}


def test_write_tasks(tmp_path):
    tasks = [add_prediction(make_task(TEXT, "d"), spans_of(TEXT), "rules-0.1")]
    path = tmp_path / "out" / "tasks.json"
    assert write_tasks(iter(tasks), path) == 1
    raw = path.read_text(encoding="utf-8")
    assert "蓝天保卫战" in raw  # not \\u-escaped
    assert json.loads(raw) == tasks


def test_task_and_prediction_validate_against_the_sdk(label_interface):
    """Tasks against the SDK's import model, predictions against the labeling config."""
    types = pytest.importorskip("label_studio_sdk.types")
    task = add_prediction(make_task(TEXT, "d", "浚县", 0, {"source": "a.txt"}), spans_of(TEXT), "rules-0.1")
    # ImportApiRequest's nested PredictionRequest requires the task id, which an import file leaves implicit
    api_task = {**task, "predictions": [{**p, "task": 1} for p in task["predictions"]]}
    parsed = types.ImportApiRequest.model_validate(api_task)
    assert parsed.data["text"] == TEXT
    (prediction,) = parsed.predictions
    assert prediction.model_version == "rules-0.1" and prediction.score == task["predictions"][0]["score"]
    for item in task["predictions"]:
        assert label_interface.validate_prediction(item, return_errors=True) == []
    # the validator does catch what we claim to check
    broken = json.loads(json.dumps(task["predictions"][0]))
    broken["result"][0]["value"]["labels"] = ["LOCATION"]
    broken["result"][1]["from_name"] = "labels"
    errors = label_interface.validate_prediction(broken, return_errors=True)
    assert len(errors) == 2


def test_export_task_annotation_validates_against_the_sdk(label_interface):
    annotated = AnnotatedTask("7", "d", "浚县", TEXT, 0, tuple(spans_of(TEXT)))
    exported = to_export_task(annotated, annotation_id=3)
    (annotation,) = exported["annotations"]
    assert annotation["id"] == 3 and annotation["was_cancelled"] is False
    assert label_interface.validate_annotation(annotation)
    assert all(item["origin"] == "manual" and "score" not in item for item in annotation["result"])


# ---------------------------------------------------------------- export reader


def test_clean_export(ls):
    text = TEXT
    results = [
        ls.locate(text, "1万", "QUANTITY"),
        ls.locate(text, "亩", "UNIT"),
        ls.locate(text, "蓝天保卫战", "PROGRAM"),
        {"id": "rel", "type": "relation", "from_id": "a", "to_id": "b"},  # not an entity: ignored
    ]
    tasks = [
        ls.task(11, text, results, doc_id="xunxian_2022", region="浚县", offset=40),
        ls.task(12, "无实体的一句。", [], doc_id="xunxian_2022", region="浚县", offset=80),
    ]
    annotated, report = parse_export(tasks)
    assert report.errors == report.repairs == report.skipped == []
    assert [t.task_id for t in annotated] == ["11", "12"]
    first = annotated[0]
    assert (first.doc_id, first.region, first.offset, first.text) == ("xunxian_2022", "浚县", 40, text)
    b = text.index("蓝天保卫战")
    assert key(first.spans) == [(5, 7, "QUANTITY", "1万"), (7, 8, "UNIT", "亩"), (b, b + 5, "PROGRAM", "蓝天保卫战")]
    assert key(first.document_spans()) == [
        (45, 47, "QUANTITY", "1万"),
        (47, 48, "UNIT", "亩"),
        (b + 40, b + 45, "PROGRAM", "蓝天保卫战"),
    ]
    assert annotated[1].spans == ()
    assert report.summary().splitlines()[0] == "0 errors, 0 repairs, 0 tasks skipped"


def test_duplicate_results_are_merged(ls):
    results = [ls.locate(TEXT, "1万", "QUANTITY", rid="a"), ls.locate(TEXT, "1万", "QUANTITY", rid="b")]
    (task,), _ = parse_export([ls.task(1, TEXT, results)])
    assert key(task.spans) == [(5, 7, "QUANTITY", "1万")]


def test_result_without_text_uses_the_offsets(ls):
    (task,), _ = parse_export([ls.task(1, TEXT, [ls.result(5, 7, "QUANTITY")])])
    assert key(task.spans) == [(5, 7, "QUANTITY", "1万")]


@pytest.mark.parametrize("shift", [-3, -1, 1, 2, DRIFT_WINDOW])
def test_drift_repaired_when_unambiguous(ls, shift):
    start = TEXT.index("蓝天保卫战")
    drifted = ls.result(start + shift, start + shift + 5, "PROGRAM", "蓝天保卫战", rid="p1")
    (task,), report = parse_export([ls.task(5, TEXT, [drifted, ls.locate(TEXT, "1万", "QUANTITY")])])
    assert key(task.spans) == [(5, 7, "QUANTITY", "1万"), (start, start + 5, "PROGRAM", "蓝天保卫战")]
    assert len(report.repairs) == 1 and report.errors == []
    repair = report.repairs[0]
    assert (repair.task, repair.where) == ("5", "result p1")
    assert f"moved from {start + shift}-{start + shift + 5} to {start}-{start + 5}" in repair.message
    assert "REPAIR task 5 result p1" in report.summary()


def test_drift_ambiguous_is_an_error(ls):
    text = "完成新造林1万亩，补植1万亩。"
    first = text.index("1万")
    # claimed between the two occurrences, both within the window: no way to choose
    bad = ls.result(first + 3, first + 5, "QUANTITY", "1万", rid="q")
    with pytest.raises(ExportValidationError) as info:
        parse_export([ls.task(8, text, [bad])])
    (problem,) = info.value.report.errors
    assert (problem.task, problem.where) == ("8", "result q")
    assert "not found unambiguously" in problem.message
    assert "task 8 result q" in str(info.value)


def test_drift_too_far_is_an_error(ls):
    text = "蓝天保卫战" + "。" * 30
    bad = ls.result(DRIFT_WINDOW + 10, DRIFT_WINDOW + 15, "PROGRAM", "蓝天保卫战")
    with pytest.raises(ExportValidationError, match="not found unambiguously"):
        parse_export([ls.task(1, text, [bad])])


def test_text_mismatch_is_an_error(ls):
    bad = ls.result(5, 7, "QUANTITY", "2万", rid="q")
    with pytest.raises(ExportValidationError) as info:
        parse_export([ls.task(3, TEXT, [bad])])
    (problem,) = info.value.report.errors
    assert problem.task == "3" and "'2万'" in problem.message and "'1万'" in problem.message


def test_overlapping_spans_are_an_error(ls):
    results = [ls.locate(TEXT, "1万亩", "QUANTITY"), ls.locate(TEXT, "亩", "UNIT")]
    with pytest.raises(ExportValidationError) as info:
        parse_export([ls.task(4, TEXT, results)])
    (problem,) = info.value.report.errors
    assert (problem.task, problem.where) == ("4", "spans")
    assert "overlap" in problem.message and "'1万亩'" in problem.message and "'亩'" in problem.message


@pytest.mark.parametrize("labels", [["LOCATION"], [], ["QUANTITY", "UNIT"], None])
def test_unknown_or_missing_label_is_an_error(ls, labels):
    item = ls.locate(TEXT, "1万", "QUANTITY", rid="x")
    item["value"]["labels"] = labels
    with pytest.raises(ExportValidationError, match="unknown or missing label") as info:
        parse_export([ls.task(6, TEXT, [item])])
    assert info.value.report.errors[0].task == "6"


@pytest.mark.parametrize("value", [{"end": 3}, {"start": "a", "end": 3}, {"start": None, "end": 2}])
def test_missing_or_bad_offsets_are_an_error(ls, value):
    item = {"id": "x", "type": "labels", "value": {**value, "labels": ["UNIT"]}}
    with pytest.raises(ExportValidationError, match="non-integer start/end"):
        parse_export([ls.task(2, TEXT, [item])])


@pytest.mark.parametrize(("start", "end"), [(len(TEXT) + 20, len(TEXT) + 22), (-100, -98), (4, 4)])
def test_offset_outside_text_is_an_error(ls, start, end):
    bad = ls.result(start, end, "QUANTITY", "1万")
    if start == 4:  # an empty span at a valid position
        bad["value"]["text"] = ""
    with pytest.raises(ExportValidationError, match="does not match"):
        parse_export([ls.task(9, TEXT, [bad])])


def test_offset_past_the_end_without_text_is_an_error(ls):
    text = "完成新造林1万亩"
    with pytest.raises(ExportValidationError):
        parse_export([ls.task(9, text, [ls.result(5, 20, "QUANTITY")])])


def test_negative_offsets_are_not_repaired_from_afar(ls):
    assert len(TEXT) == 30 and TEXT.index("1万") == 5
    with pytest.raises(ExportValidationError):
        parse_export([ls.task(9, TEXT, [ls.result(-30, -28, "QUANTITY", "1万")])])


def test_task_without_annotation(ls):
    tasks = [
        ls.task(1, TEXT, [ls.locate(TEXT, "1万", "QUANTITY")]),
        ls.task(2, TEXT, annotations=[]),
        {"id": 3, "data": {"text": TEXT, "doc_id": "d"}},  # no annotations key at all
        ls.task(4, TEXT, annotations=[ls.annotation([], cancelled=True)]),
    ]
    with pytest.raises(ExportValidationError) as info:
        parse_export(tasks)
    assert [(p.task, p.where) for p in info.value.report.errors] == [
        ("2", "annotations"),
        ("3", "annotations"),
        ("4", "annotations"),
    ]
    annotated, report = parse_export(tasks, skip_unannotated=True)
    assert [t.task_id for t in annotated] == ["1"]
    assert [p.task for p in report.skipped] == ["2", "3", "4"]
    assert report.errors == []
    assert "SKIP   task 2 annotations" in report.summary()


def test_skip_unannotated_does_not_hide_errors(ls):
    tasks = [ls.task(1, TEXT, annotations=[]), ls.task(2, TEXT, [ls.result(5, 7, "QUANTITY", "2万")])]
    with pytest.raises(ExportValidationError) as info:
        parse_export(tasks, skip_unannotated=True)
    assert [p.task for p in info.value.report.errors] == ["2"]
    assert [p.task for p in info.value.report.skipped] == ["1"]


def test_cancelled_annotation_ignored_and_latest_chosen(ls):
    quantity = ls.locate(TEXT, "1万", "QUANTITY")
    unit = ls.locate(TEXT, "亩", "UNIT")
    program = ls.locate(TEXT, "蓝天保卫战", "PROGRAM")
    annotations = [
        ls.annotation([quantity], ann_id=1, updated_at="2024-03-01T10:00:00.000000Z"),
        ls.annotation([quantity, unit], ann_id=2, updated_at="2024-05-02T10:00:00.000000Z"),
        ls.annotation([program], ann_id=3, cancelled=True, updated_at="2024-06-01T10:00:00.000000Z"),
        ls.annotation([], ann_id=4, updated_at="2024-04-01T10:00:00.000000Z"),
    ]
    (task,), _ = parse_export([ls.task(1, TEXT, annotations=annotations)])
    assert task.annotation_id == "2"
    assert key(task.spans) == [(5, 7, "QUANTITY", "1万"), (7, 8, "UNIT", "亩")]
    assert choose_annotation([annotations[2]]) is None
    assert choose_annotation([]) is None


def test_latest_by_updated_at_then_created_at():
    a = {"id": 1, "created_at": "2024-01-02", "updated_at": "2024-02-01"}
    b = {"id": 2, "created_at": "2024-01-03", "updated_at": "2024-01-05"}
    assert choose_annotation([a, b])["id"] == 1
    c = {"id": 3, "created_at": "2024-01-01", "updated_at": "2024-02-01"}
    assert choose_annotation([c, a])["id"] == 1


def test_latest_by_numeric_id_on_equal_timestamps():
    anns = [{"id": 9, "updated_at": "2024-01-01T00:00:00Z"}, {"id": 10, "updated_at": "2024-01-01T00:00:00Z"}]
    assert choose_annotation(anns)["id"] == 10


def test_task_without_text_is_an_error(ls):
    with pytest.raises(ExportValidationError, match="no 'text' in task data"):
        parse_export([{"id": 1, "data": {"doc_id": "d"}, "annotations": [ls.annotation([])]}])


def test_export_must_be_a_list():
    with pytest.raises(ExportValidationError, match="expected a JSON list of tasks"):
        parse_export({"id": 1})


def test_every_problem_reported_with_its_task_id(ls):
    text2 = "完成新造林1万亩，补植1万亩。"
    tasks = [
        ls.task(101, TEXT, [ls.locate(TEXT, "1万", "QUANTITY")]),  # good
        ls.task(102, TEXT, [ls.result(5, 7, "QUANTITY", "9万", rid="m")]),  # text mismatch
        ls.task(103, TEXT, [ls.locate(TEXT, "1万亩", "QUANTITY"), ls.locate(TEXT, "亩", "UNIT")]),  # overlap
        ls.task(104, TEXT, annotations=[]),  # no annotation
        ls.task(105, text2, [ls.result(8, 10, "QUANTITY", "1万", rid="amb")]),  # ambiguous drift
        ls.task(106, TEXT, [{**ls.locate(TEXT, "亩", "UNIT"), "value": {"start": 7, "end": 8, "labels": ["AREA"]}}]),
        ls.task(107, TEXT, [ls.result(100, 102, "UNIT", "亩")]),  # outside the text
        ls.task(108, TEXT, [ls.result(TEXT.index("亩") + 2, TEXT.index("亩") + 3, "UNIT", "亩", rid="d")]),  # repair
    ]
    with pytest.raises(ExportValidationError) as info:
        parse_export(tasks)
    report = info.value.report
    assert sorted({p.task for p in report.errors}) == ["102", "103", "104", "105", "106", "107"]
    assert len(report.errors) == 6
    assert [p.task for p in report.repairs] == ["108"]
    message = str(info.value)
    assert message.startswith("invalid Label Studio export:\n6 errors, 1 repairs, 0 tasks skipped")
    for task_id in ["102", "103", "104", "105", "106", "107"]:
        assert f"ERROR  task {task_id} " in message
    assert "REPAIR task 108" in message
    assert "101" not in message


def test_several_errors_in_one_task_all_reported(ls):
    results = [
        ls.result(5, 7, "QUANTITY", "9万", rid="a"),
        {**ls.locate(TEXT, "亩", "UNIT"), "id": "b", "value": {"start": 7, "end": 8, "labels": ["X"]}},
    ]
    with pytest.raises(ExportValidationError) as info:
        parse_export([ls.task(1, TEXT, results)])
    assert [p.where for p in info.value.report.errors] == ["result a", "result b"]


def test_read_export_files_and_folders(tmp_path, ls):
    folder = tmp_path / "gold"
    folder.mkdir()
    (folder / "b.json").write_text(json.dumps([ls.task(2, TEXT, [ls.locate(TEXT, "亩", "UNIT")])]), encoding="utf-8")
    (folder / "a.json").write_text(
        json.dumps([ls.task(1, TEXT, [ls.locate(TEXT, "1万", "QUANTITY")])], ensure_ascii=False), encoding="utf-8"
    )
    (folder / "notes.txt").write_text("not an export", encoding="utf-8")
    annotated, _ = read_export(folder)
    assert [t.task_id for t in annotated] == ["1", "2"]
    annotated, _ = read_export([folder / "b.json", str(folder / "a.json")])
    assert [t.task_id for t in annotated] == ["2", "1"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no Label Studio export"):
        read_export(empty)


def test_to_export_task_round_trip(ls):
    original = AnnotatedTask("t1", "doc", "东兴市", TEXT, 12, tuple(spans_of(TEXT)), "5")
    exported = json.loads(json.dumps(to_export_task(original)))
    (back,), report = parse_export([exported])
    assert report.repairs == []
    assert (back.task_id, back.doc_id, back.region, back.text, back.offset) == ("t1", "doc", "东兴市", TEXT, 12)
    assert key(back.spans) == key(original.spans)
    assert key(back.document_spans()) == key(s.shifted(12) for s in original.spans)
    for item in exported["annotations"][0]["result"]:
        assert (item["from_name"], item["to_name"], item["type"]) == (FROM_NAME, TO_NAME, "labels")


def test_span_to_result():
    span = Span(5, 7, "QUANTITY", "1万", 0.91234)
    manual = span_to_result(span)
    assert manual["origin"] == "manual" and "score" not in manual
    assert manual["value"] == {"start": 5, "end": 7, "text": "1万", "labels": ["QUANTITY"]}
    predicted = span_to_result(span, with_score=True)
    assert predicted["origin"] == "prediction" and predicted["score"] == 0.9123
    assert "score" not in span_to_result(Span(5, 7, "QUANTITY", "1万"), with_score=True)
    assert manual["id"] != predicted["id"]


def test_the_same_task_in_two_exports_is_an_error(tmp_path):
    import json

    from govreport_ner.annotation.labelstudio_format import ExportValidationError, read_export

    task = {
        "id": 1,
        "data": {"text": "完成新造林1万亩", "doc_id": "d", "region": "r", "offset": 0},
        "annotations": [{"id": 1, "result": []}],
    }
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ExportValidationError, match="duplicate of task 1"):
        read_export(tmp_path)


# ---------------------------------------------------------------- exports that used to pass silently (issue 14)


def test_result_without_text_is_reported_with_its_neighbourhood(ls):
    (task,), report = parse_export([ls.task(1, TEXT, [ls.result(5, 7, "QUANTITY", rid="q")])])
    assert key(task.spans) == [(5, 7, "QUANTITY", "1万")]
    (repair,) = report.repairs
    assert repair.where == "result q" and "no 'text'" in repair.message and "新造林[1万]亩，" in repair.message


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        (16, 17, "cuts a number"),  # "7" of 75%
        (17, 19, "cuts a number"),  # "5%" of 75%
        (7, 9, "punctuation"),  # "亩，"
    ],
)
def test_result_without_text_that_cuts_a_number_or_ends_in_punctuation_is_an_error(ls, start, end, why):
    with pytest.raises(ExportValidationError, match=why) as info:
        parse_export([ls.task(1, TEXT, [ls.result(start, end, "QUANTITY", rid="q")])])
    assert "no 'text'" in str(info.value) and f"[{TEXT[start:end]}]" in str(info.value)


def test_truncated_export_names_the_file_and_the_position(tmp_path, ls):
    path = tmp_path / "export.json"
    full = json.dumps([ls.task(1, TEXT, [ls.locate(TEXT, "1万", "QUANTITY")])], ensure_ascii=False, indent=1)
    path.write_text(full[: len(full) // 2], encoding="utf-8")
    with pytest.raises(ExportValidationError) as info:
        read_export(path)
    message = str(info.value)
    assert str(path) in message and "line " in message and "column " in message and "truncated" in message


def test_invalid_export_names_the_file(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[{"id": 1,, "data": {}}]', encoding="utf-8")
    with pytest.raises(ExportValidationError, match=r"export\.json: line 1, column 11"):
        read_export(path)
    path.write_text('{"id": 1}', encoding="utf-8")
    with pytest.raises(ExportValidationError, match="export.json: expected a JSON list"):
        read_export(path)
