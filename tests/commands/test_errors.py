"""Expected errors print one line and exit non-zero; tracebacks only when asked for (issue 14, item 8)."""

from __future__ import annotations

import pytest

from govreport_ner.commands.errors import EXIT_CODE, report_errors
from govreport_ner.text.reader import ReportReadError


@report_errors
def _fails(err: BaseException):
    raise err


def test_an_expected_error_is_one_line_and_a_non_zero_exit(capsys, monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.delenv("GOVREPORT_NER_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        _fails(ReportReadError("in/a.txt", "no such file"))
    assert info.value.code == EXIT_CODE != 0
    assert capsys.readouterr().err == "error: in/a.txt: no such file\n"


@pytest.mark.parametrize("variable", ["HYDRA_FULL_ERROR", "GOVREPORT_NER_DEBUG"])
def test_the_traceback_when_asked_for(monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    with pytest.raises(ReportReadError):
        _fails(ReportReadError("in/a.txt", "no such file"))


def test_a_bug_keeps_its_traceback(monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(KeyError):
        _fails(KeyError("bug"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["checkpoint=rules", "inputs=missing", "output=out.jsonl"], "error: input not found: missing"),
        (["checkpoint=rules", "inputs=missing"], "error: missing setting output: give it as output=..."),
        (["checkpoint=rules", "inputs=in.txt", "output=in.txt"], "is also an input"),
        (["checkpoint=no-such-dir", "inputs=in.txt", "output=out.jsonl"], "error: "),
        (["checkpoint=rules", "inputs=in.txt", "output=out.jsonl", "engine=tpu"], "error: engine must be one of"),
        (["checkpoint=rules", "inputs=in.txt", "output=out.jsonl", "no_such_key=1"], "no_such_key"),
    ],
)
def test_predict_errors_are_one_line_without_a_traceback(script_result, tmp_path, overrides, message):
    (tmp_path / "in.txt").write_text("全年新增城镇就业1.2万人。\n", encoding="utf-8")
    proc = script_result("predict.py", "progress=false", *overrides, cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    assert message in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


@pytest.mark.slow
def test_a_debug_run_shows_the_traceback(script_result, tmp_path):
    proc = script_result(
        "predict.py", "checkpoint=rules", "inputs=x", "output=y", cwd=tmp_path, env={"GOVREPORT_NER_DEBUG": "1"}
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "input not found" in proc.stderr


def test_a_returned_int_is_the_exit_code():
    assert report_errors(lambda: 0)() == 0
    assert report_errors(lambda: 0.5)() == 0.5  # a sweep's objective is returned, not an exit code
    with pytest.raises(SystemExit) as info:
        report_errors(lambda: 1)()
    assert info.value.code == 1
