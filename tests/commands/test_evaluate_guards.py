"""Evaluation that cannot flatter (issue 14, item 9): trained regions refused or marked, the split
checked and recorded, nothing written for checkpoint=rules unless asked."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir

from govreport_ner.commands.config import CONFIG_DIR
from govreport_ner.commands.evaluate import evaluate_command, evaluated_regions, evaluation_clauses, output_dir
from govreport_ner.model.ensemble import write_ensemble_manifest


def _cfg(*overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("evaluate", overrides=list(overrides))


def _trained_checkpoint(folder, holdout: str | None, where: str = "config.yaml"):
    folder.mkdir(parents=True)
    if where == "config.yaml":
        value = "null" if holdout is None else holdout
        (folder / "config.yaml").write_text(f"name: tiny\ndata:\n  holdout: {value}\n", encoding="utf-8")
    else:
        (folder / "metrics.json").write_text(json.dumps({"holdout": holdout}), encoding="utf-8")
    (folder / "model").mkdir()
    return folder


def test_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="split must be one of test, train, all, not 'tset'"):
        evaluation_clauses(_cfg("checkpoint=rules", "split=tset"))


def test_split_train_and_all():
    cfg = _cfg("checkpoint=rules", "data.holdout=xunxian", "split=train")
    assert "浚县" not in set(evaluation_clauses(cfg)["region"])
    cfg = _cfg("checkpoint=rules", "data.holdout=xunxian", "split=all")
    assert "浚县" in set(evaluation_clauses(cfg)["region"]) and len(set(evaluation_clauses(cfg)["region"])) == 5


@pytest.mark.parametrize("holdout", ["null", "dongxing"])
def test_regions_the_checkpoint_trained_on_are_refused(tmp_path, holdout):
    checkpoint = _trained_checkpoint(tmp_path / "holdout-xunxian", "xunxian")
    cfg = _cfg(f"checkpoint={checkpoint}", f"data.holdout={holdout}", f"output_dir={tmp_path / 'out'}")
    with pytest.raises(ValueError, match=r"was trained on .*东兴.*held out: 浚县.*config\.yaml"):
        evaluate_command(cfg)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["config.yaml", "metrics.json"])
def test_the_held_out_region_is_evaluated_and_recorded(tmp_path, where):
    checkpoint = _trained_checkpoint(tmp_path / "ckpt", "xunxian", where)
    cfg = _cfg(f"checkpoint={checkpoint / 'model'}", "data.holdout=xunxian")  # the model/ folder works too
    info = evaluated_regions(cfg, evaluation_clauses(cfg))
    assert info["split"] == "test" and info["regions"] == ["浚县"] and info["holdout"] == "xunxian"
    assert info["checkpoint_holdout"] == ["浚县"] and info["trained_regions_evaluated"] == []


def test_allow_trained_regions_marks_the_results(tmp_path):
    checkpoint = _trained_checkpoint(tmp_path / "ckpt", None)
    cfg = _cfg(f"checkpoint={checkpoint}", "data.holdout=xunxian", "allow_trained_regions=true")
    info = evaluated_regions(cfg, evaluation_clauses(cfg))
    assert info["trained_regions_evaluated"] == ["浚县"]


def test_a_checkpoint_without_training_record_is_marked_unknown(tmp_path):
    (tmp_path / "bare").mkdir()
    cfg = _cfg(f"checkpoint={tmp_path / 'bare'}", "data.holdout=xunxian")
    assert evaluated_regions(cfg, evaluation_clauses(cfg))["trained_regions_evaluated"] == "unknown"


def test_rules_write_nothing_into_the_working_tree(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    scores = evaluate_command(_cfg("checkpoint=rules", "data.holdout=xunxian"))
    assert list(scores) == ["rules"]
    assert list(tmp_path.iterdir()) == []
    assert "no reports written" in capsys.readouterr().out


def test_the_results_say_what_was_evaluated(tmp_path):
    evaluate_command(_cfg("checkpoint=rules", "data.holdout=xunxian", f"output_dir={tmp_path}"))
    evaluated = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))["evaluated"]
    assert evaluated["split"] == "test" and evaluated["regions"] == ["浚县"] and evaluated["holdout"] == "xunxian"
    assert "Split `test` (data.holdout=xunxian)" in (tmp_path / "evaluation.md").read_text(encoding="utf-8")


def test_an_ensemble_is_refused_regions_any_member_trained_on(tmp_path):
    held_out = _trained_checkpoint(tmp_path / "s42", "xunxian")
    trained = _trained_checkpoint(tmp_path / "s7", "dongxing")
    both = f"checkpoint=[{held_out},{trained}]"
    with pytest.raises(ValueError, match=r"was trained on .*浚县"):
        evaluate_command(_cfg(both, "data.holdout=xunxian", f"output_dir={tmp_path / 'out'}"))
    twin = _trained_checkpoint(tmp_path / "s13", "xunxian")
    cfg = _cfg(f"checkpoint=[{held_out},{twin}]", "data.holdout=xunxian")
    info = evaluated_regions(cfg, evaluation_clauses(cfg))
    assert info["checkpoint_holdout"] == ["浚县"] and info["trained_regions_evaluated"] == []
    assert info["checkpoint"] == f"{held_out}, {twin}"


def test_an_ensemble_folder_is_checked_member_by_member_and_reports_into_itself(tmp_path):
    folder = tmp_path / "runs" / "e5_small" / "holdout-xunxian"
    members = [_trained_checkpoint(folder / "seed-42", "xunxian"), _trained_checkpoint(folder / "seed-7", "dongxing")]
    write_ensemble_manifest(folder, members, seeds=[42, 7])
    with pytest.raises(ValueError, match=r"was trained on .*浚县"):
        evaluate_command(_cfg(f"checkpoint={folder}", "data.holdout=xunxian"))
    (folder / "seed-7" / "config.yaml").write_text("name: tiny\ndata:\n  holdout: xunxian\n", encoding="utf-8")
    cfg = _cfg(f"checkpoint={folder}", "data.holdout=xunxian")
    assert evaluated_regions(cfg, evaluation_clauses(cfg))["trained_regions_evaluated"] == []
    assert output_dir(cfg) == folder / "evaluation-xunxian"
