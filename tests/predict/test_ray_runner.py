"""govreport_ner.predict.ray_runner: runner=ray writes the local runner's output, document for document.

A local Ray (2 CPUs, no dashboard) is started once for the module and stopped at its end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govreport_ner.model.modeling import build_tiny, save_checkpoint
from govreport_ner.predict.batch import run_batch
from govreport_ner.predict.predictors import load_predictor
from govreport_ner.predict.writers import ResumeMismatchError, partial_path

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

pytestmark = pytest.mark.slow

CRLF_TEXT = (
    "一、2024年主要目标\r\n"
    "到2025年新建学校12所，完成投资3.5亿元以上。\r\n"
    "全年新增城镇就业1.2万人，𠮷祥路改造工程年底前竣工；实施“乡村振兴”战略。\r\n"
)
LF_TEXT = (
    "（一）扎实推进项目建设。\n全年实施重点项目120个，完成投资85亿元。\n新建5G基站1500个，改造老旧小区3至5万户。\n"
)
SHORT = [f"第{i}项：新建公园{i + 2}个，投资{i}.5亿元。\n年底前完成改造工程。" for i in range(9)]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny_ray")
    tokenizer, model = build_tiny([CRLF_TEXT + LF_TEXT + "".join(SHORT)], hidden_size=32, intermediate_size=64, seed=1)
    alignment = {"one_token_per_char": True, "max_length": 64, "stride": 8, "model_version": "tiny-ray"}
    save_checkpoint(model, tokenizer, directory / "model", alignment)
    return directory


@pytest.fixture()
def inputs(tmp_path) -> list[Path]:
    """GB18030 + CRLF, UTF-8 with a BOM, an empty and an undecodable file, short reports, a symbolic
    link, and a JSONL file with a duplicate id, a bad line and a blank text; a missing input."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "gb_crlf.txt").write_bytes(CRLF_TEXT.encode("gb18030"))
    (folder / "bom.txt").write_bytes(b"\xef\xbb\xbf" + LF_TEXT.encode("utf-8"))
    (folder / "empty.txt").write_bytes(b"  \r\n")
    (folder / "binary.txt").write_bytes(b"\x81\x30\xff\xfe\x00\x81")
    for i, text in enumerate(SHORT):
        (folder / f"short_{i}.txt").write_text(text, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "target.txt").write_text(LF_TEXT + "链接", encoding="utf-8")
    (folder / "link.txt").symlink_to(elsewhere / "target.txt")  # its source is the link, as the local runner says
    jsonl = tmp_path / "docs.jsonl"
    lines = [
        json.dumps({"id": "j1", "text": LF_TEXT}, ensure_ascii=False),
        '{"id": "broken", "text": ',
        json.dumps({"id": "blank", "text": "   "}),
        json.dumps({"id": "j1", "text": "重复的编号"}, ensure_ascii=False),
        json.dumps({"id": "gb_crlf", "text": "与文件同名"}, ensure_ascii=False),
        json.dumps({"id": "j2", "text": CRLF_TEXT}, ensure_ascii=False),
    ]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [folder, jsonl, tmp_path / "missing"]


def _run_ray(checkpoint, inputs, output, **kwargs):
    from govreport_ner.predict.ray_runner import run_ray

    options = {"checkpoint": str(checkpoint), "engine": "torch", "num_threads": 1}
    return run_ray(options, inputs, output, progress=False, actors=2, batch_docs=3, **kwargs)


def _failures(summary) -> list[tuple[str, str]]:
    return sorted((f.id, f.reason) for f in summary.failures)


@pytest.mark.parametrize("checkpoint", ["rules", "tiny"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "labelstudio"])
def test_ray_output_is_the_local_output(local_ray, tiny_checkpoint, inputs, tmp_path, checkpoint, fmt):
    ckpt = "rules" if checkpoint == "rules" else tiny_checkpoint
    local_out, ray_out = tmp_path / f"local.{fmt}", tmp_path / f"ray.{fmt}"
    local = run_batch(load_predictor(ckpt, engine="torch", num_threads=1), inputs, local_out, fmt, progress=False)
    remote = _run_ray(ckpt, inputs, ray_out, fmt=fmt)
    assert remote.documents == local.documents == 14
    assert local_out.read_bytes() == ray_out.read_bytes()  # every document, byte for byte, in the same order
    assert not partial_path(ray_out).exists()
    assert _failures(remote) == _failures(local) and remote.exit_code == local.exit_code == 1
    assert {f.id for f in remote.failures} == {"empty", "binary", "docs-2", "blank", "j1", "gb_crlf", "missing"}
    for key in ("characters", "entities", "targets", "labels", "encodings", "written", "model_version", "engine"):
        assert getattr(remote, key) == getattr(local, key), key
    assert remote.runner.startswith("ray, 2 actors") and "runner: ray" in remote.format_text()


def test_ray_resume_adds_nothing_twice(local_ray, tiny_checkpoint, inputs, tmp_path):
    out = tmp_path / "out.jsonl"
    first = _run_ray("rules", inputs, out)
    complete = out.read_text(encoding="utf-8").splitlines()
    # A crash after three documents: the output is gone, the partial file has three lines and half a fourth.
    partial_path(out).write_text("\n".join(complete[:3]) + "\n" + complete[3][:20], encoding="utf-8")
    out.unlink()
    resumed = _run_ray("rules", inputs, out, resume=True)
    assert resumed.resumed == 3 and resumed.documents == first.documents - 3
    assert sorted(out.read_text(encoding="utf-8").splitlines()) == sorted(complete)
    again = _run_ray("rules", inputs, out, resume=True)
    assert again.documents == 0 and again.resumed == first.documents
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == first.documents
    assert _failures(again) == _failures(first)
    with pytest.raises(ResumeMismatchError, match="rules-0.1"):  # another model: refused, nothing touched
        _run_ray(tiny_checkpoint, inputs, out, resume=True)
    assert sorted(out.read_text(encoding="utf-8").splitlines()) == sorted(complete)


def test_ray_writes_no_output_when_nothing_was_predicted(local_ray, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"\r\n")
    summary = _run_ray("rules", tmp_path / "empty.txt", tmp_path / "out.jsonl")
    assert summary.written is False and summary.exit_code == 1 and not (tmp_path / "out.jsonl").exists()
    assert not partial_path(tmp_path / "out.jsonl").exists()


def test_predict_command_dispatches_on_the_runner(local_ray, tmp_path, repo_root):
    from hydra import compose, initialize_config_dir

    from govreport_ner.commands.config import register_resolvers
    from govreport_ner.commands.predict import predict_command

    register_resolvers()
    out = {runner: tmp_path / f"{runner}.jsonl" for runner in ("local", "ray")}
    with initialize_config_dir(config_dir=str(repo_root / "configs"), version_base=None):
        for runner, path in out.items():
            cfg = compose(
                "predict",
                [
                    f"runner={runner}",
                    "checkpoint=rules",
                    f"inputs={repo_root / 'seeds'}",
                    f"output={path}",
                    "progress=false",
                ]
                + (["ray.actors=2"] if runner == "ray" else []),
            )
            assert predict_command(cfg) == 0
    assert out["local"].read_bytes() == out["ray"].read_bytes()
