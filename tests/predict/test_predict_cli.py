"""scripts/predict.py as other tools call it: Hydra overrides in, files and an exit code out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from govreport_ner.model.modeling import build_tiny, save_checkpoint

pytestmark = pytest.mark.slow  # runs a script, trains, or executes a notebook

REPORT = "到2025年新建学校12所，完成投资3.5亿元以上。\r\n全年新增城镇就业1.2万人。\r\n"


def _run(repo_root, cwd, *overrides):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(repo_root / "src"), env.get("PYTHONPATH", "")) if p)
    env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "predict.py"), "progress=false", *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )


def test_cli_rules_reports_a_bad_file_in_the_summary_and_exit_code(repo_root, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_bytes(REPORT.encode("gb18030"))
    (folder / "b.txt").write_bytes(b"")
    out = tmp_path / "out" / "rules.jsonl"
    proc = _run(repo_root, tmp_path, "checkpoint=rules", f"inputs={folder}", f"output={out}")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED b: empty file" in proc.stdout and "1 failed" in proc.stdout
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "a" and record["model_version"] == "rules-0.1"
    assert any(t["value"] == 12 and t["unit"] == "所" for t in record["targets"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "reports"]  # no Hydra folders in cwd


def test_cli_model_labelstudio_with_summary_file(repo_root, tmp_path):
    tokenizer, model = build_tiny([REPORT])
    save_checkpoint(model, tokenizer, tmp_path / "ckpt" / "model", {"one_token_per_char": True, "max_length": 64})
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(json.dumps({"id": "d1", "text": REPORT}, ensure_ascii=False) + "\n", encoding="utf-8")
    out, summary = tmp_path / "tasks.json", tmp_path / "summary.json"
    proc = _run(
        repo_root,
        tmp_path,
        f"checkpoint={tmp_path / 'ckpt'}",
        f"inputs={jsonl}",
        f"output={out}",
        "format=labelstudio",
        f"summary_file={summary}",
        "num_threads=1",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    assert task["data"]["doc_id"] == "d1" and task["data"]["text"] == REPORT
    from govreport_ner.predict.predictors import onnx_available

    onnx = onnx_available()  # the default engine: ONNX fp32 when installed, else torch
    # the default: the model alone (it measured best across held-out folds)
    assert task["predictions"][0]["model_version"] == ("ckpt+onnx" if onnx else "ckpt")
    stats = json.loads(summary.read_text(encoding="utf-8"))
    assert stats["engine"] == ("onnx fp32" if onnx else "torch") and stats["runner"] == "local"
    assert stats["documents"] == 1 and stats["characters"] == len(REPORT) and stats["exit_code"] == 0
    assert "labels: all from the model (rule_labels=[...] for the model+rules hybrid)" in proc.stdout + proc.stderr


def test_cli_predicts_with_an_ensemble_of_checkpoints(repo_root, tmp_path):
    for seed, name in ((1, "s1"), (2, "s2")):
        tokenizer, model = build_tiny([REPORT], seed=seed)
        save_checkpoint(model, tokenizer, tmp_path / name / "model", {"one_token_per_char": True, "max_length": 64})
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    members = f"checkpoint=[{tmp_path / 's1'},{tmp_path / 's2'}]"
    proc = _run(repo_root, tmp_path, members, f"inputs={tmp_path / 'a.txt'}", f"output={out}", "num_threads=1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["model_version"].startswith("ensemble(s1") and ", s2" in record["model_version"]
