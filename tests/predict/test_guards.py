"""Guards of the batch runner (issue 14): refused before anything is written, never a silent empty output."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from govreport_ner.commands.predict import predict_command
from govreport_ner.predict.batch import BatchSetupError, check_batch, run_batch
from govreport_ner.predict.protocol import RulePredictor
from govreport_ner.predict.writers import ResumeMismatchError, partial_path

REPORT = "到2025年新建学校12所，完成投资3.5亿元以上。\n全年新增城镇就业1.2万人。\n"


class OtherModel(RulePredictor):
    model_version = "e5_small-holdout-none+onnx-int8"


def _report(tmp_path, name="a.txt", text=REPORT):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_output_equal_to_an_input_is_refused_before_anything_is_written(tmp_path):
    report = _report(tmp_path)
    with pytest.raises(BatchSetupError, match="also an input"):
        run_batch(RulePredictor(), [report], report, progress=False)
    assert report.read_text(encoding="utf-8") == REPORT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no .partial either


def test_a_txt_output_inside_an_input_folder_is_refused(tmp_path):
    _report(tmp_path)
    with pytest.raises(BatchSetupError, match="also an input"):
        check_batch([tmp_path], tmp_path / "out.txt")


@pytest.mark.parametrize("suffix", [".json", ".ndjson", ".JSONL"])
def test_json_lines_under_other_suffixes_are_read_as_json_lines(tmp_path, suffix):
    path = tmp_path / f"docs{suffix}"
    path.write_text(json.dumps({"id": "d1", "text": REPORT}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = run_batch(RulePredictor(), [path], out, progress=False)
    assert summary.exit_code == 0
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "d1"  # not one raw report named "docs" whose text is the JSON


def test_a_json_array_input_is_refused_with_a_message(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"data": {"text": REPORT}}], ensure_ascii=False, indent=1), encoding="utf-8")
    with pytest.raises(BatchSetupError, match="JSON array, not JSON Lines"):
        check_batch([path], tmp_path / "out.jsonl")
    with pytest.raises(BatchSetupError, match="JSON array"):
        run_batch(RulePredictor(), [path], tmp_path / "out.jsonl", progress=False)
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "labelstudio"])
def test_resume_with_another_model_version_is_refused_naming_both(tmp_path, fmt):
    report = _report(tmp_path)
    out = tmp_path / f"out.{fmt}"
    run_batch(RulePredictor(), [report], out, fmt=fmt, progress=False)
    before = out.read_bytes()
    with pytest.raises(ResumeMismatchError) as info:
        run_batch(OtherModel(), [report], out, fmt=fmt, resume=True, progress=False)
    assert "rules-0.1" in str(info.value) and OtherModel.model_version in str(info.value)
    assert out.read_bytes() == before
    # the same version resumes as before
    again = run_batch(RulePredictor(), [report], out, fmt=fmt, resume=True, progress=False)
    assert again.resumed == 1 and again.documents == 0


def test_resume_checks_a_crashed_runs_partial_too(tmp_path):
    report = _report(tmp_path)
    out = tmp_path / "out.jsonl"
    partial_path(out).write_text(json.dumps({"id": "x", "model_version": "rules-0.1"}) + "\n", encoding="utf-8")
    with pytest.raises(ResumeMismatchError, match="rules-0.1"):
        run_batch(OtherModel(), [report], out, resume=True, progress=False)


def test_no_output_file_when_nothing_was_predicted(tmp_path):
    empty = _report(tmp_path, "empty.txt", "  \n")
    out = tmp_path / "out" / "out.jsonl"
    summary = run_batch(RulePredictor(), [empty], out, progress=False)
    assert summary.documents == 0 and summary.exit_code == 1
    assert not out.exists() and not partial_path(out).exists()
    assert "none written" in summary.format_text() and summary.to_dict()["written"] is False


def test_summary_says_which_encodings_were_read(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(REPORT.encode("gb18030"))
    (tmp_path / "in" / "b.txt").write_bytes(b"\xff\xfe" + REPORT.encode("utf-16-le"))
    summary = run_batch(RulePredictor(), [tmp_path / "in"], tmp_path / "out.jsonl", progress=False)
    assert summary.encodings == {"gb18030": 1, "utf-16-le": 1}
    assert "encodings: gb18030 1, utf-16-le 1" in summary.format_text()


def test_missing_input_is_reported_before_the_model_loads(tmp_path):
    cfg = OmegaConf.create(
        {
            "checkpoint": str(tmp_path / "no-such-checkpoint"),  # loading it would fail differently
            "engine": "torch",
            "format": "jsonl",
            "per": "document",
            "shard": None,
            "inputs": [str(tmp_path / "missing.txt")],
            "output": str(tmp_path / "out.jsonl"),
        }
    )
    with pytest.raises(BatchSetupError, match="input not found: .*missing.txt"):
        predict_command(cfg)
    assert not (tmp_path / "out.jsonl").exists()
