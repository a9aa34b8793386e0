"""The commands that produce the README's numbers: evaluate, the fold aggregate, the annotation report.

Each is composed from the real config tree (``configs/``), run in a temporary folder, and
checked against the committed numbers where there are some.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from govreport_ner.commands.aggregate import aggregate_command
from govreport_ner.commands.config import CONFIG_DIR
from govreport_ner.commands.evaluate import evaluate_command
from govreport_ner.model.ensemble import write_ensemble_manifest
from govreport_ner.model.modeling import build_tiny, save_checkpoint


def _cfg(name: str, *overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(name, overrides=list(overrides))


def _tiny_checkpoint(directory, texts=("到2025年新建学校12所，完成投资3.5亿元以上。",)):
    tokenizer, model = build_tiny(list(texts), hidden_size=32, intermediate_size=64, seed=3)
    alignment = {"one_token_per_char": True, "max_length": 64, "stride": 8, "model_version": "tiny-eval"}
    save_checkpoint(model, tokenizer, directory / "model", alignment)
    return directory


def _micro(scores: dict) -> dict:
    return scores["strict"]["micro"]


def test_paths_resolve_from_the_project_root(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _cfg("evaluate", "checkpoint=rules")
    assert cfg.data.gold == str(repo_root / "annotations" / "gold")
    assert cfg.data.seed_dir == str(repo_root / "seeds")
    assert cfg.max_chars == cfg.data.max_chars  # one clause budget


def test_evaluate_rules_matches_the_annotation_reports_rule_baseline(repo_root, tmp_path, capsys):
    cfg = _cfg("evaluate", "checkpoint=rules", f"output_dir={tmp_path}")
    scores = evaluate_command(cfg)
    assert list(scores) == ["rules"]
    measured = json.loads((repo_root / "annotations" / "measured.json").read_text(encoding="utf-8"))
    assert _micro(scores["rules"]) == pytest.approx(measured["rules_vs_gold"]["strict"]["micro"])
    m = measured["rules_vs_gold"]["strict"]["micro"]
    line = f"rules  strict micro P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f} on 293 clauses"
    assert line in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluation.json", "evaluation.md", "f1_by_region.png"]


@pytest.mark.slow
def test_evaluate_scores_torch_and_onnx_engines_through_the_same_code(tmp_path):
    checkpoint = _tiny_checkpoint(tmp_path / "ckpt")
    results = {}
    for engine in ("torch", "onnx"):
        out = tmp_path / f"eval-{engine}"
        cfg = _cfg(
            "evaluate",
            f"checkpoint={checkpoint}",
            "data.holdout=dongxing",
            f"engine={engine}",
            f"onnx_dir={tmp_path / 'onnx'}",
            "num_threads=1",
            f"output_dir={out}",
        )
        results[engine] = evaluate_command(cfg)
        written = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
        assert written.pop("evaluated")["trained_regions_evaluated"] == "unknown"  # a checkpoint without config
        assert written == json.loads(json.dumps(results[engine]))
    assert list(results["torch"]) == ["model", "model+rules", "rules"]
    for system in ("model", "model+rules", "rules"):
        assert _micro(results["onnx"][system]) == pytest.approx(_micro(results["torch"][system]))
    # the hybrid takes QUANTITY, UNIT and DEADLINE from the rules (systems/default.yaml)
    for label in ("QUANTITY", "UNIT", "DEADLINE"):
        hybrid = results["torch"]["model+rules"]["strict"]["per_label"][label]
        assert hybrid == results["torch"]["rules"]["strict"]["per_label"][label]


@pytest.mark.slow
def test_aggregate_summarises_folds_against_the_rules(tmp_path, capsys):
    folds = {"holdout-dongxing": "dongxing", "holdout-lueyang": "lueyang"}
    for folder, region in folds.items():
        _tiny_checkpoint(tmp_path / folder)
        (tmp_path / folder / "metrics.json").write_text(json.dumps({"holdout": region}), encoding="utf-8")
    (tmp_path / "holdout-none").mkdir()  # a fold without a held-out region is not a fold
    (tmp_path / "holdout-none" / "metrics.json").write_text(json.dumps({"holdout": None}), encoding="utf-8")
    summary = aggregate_command(_cfg("aggregate", f"sweep_dir={tmp_path}"))
    assert set(summary["folds"]) == {"model", "model+rules", "rules"}
    assert list(summary["folds"]["rules"]) == list(folds)
    for folder, region in folds.items():
        scores = evaluate_command(
            _cfg("evaluate", "checkpoint=rules", f"data.holdout={region}", f"output_dir={tmp_path / 'e' / region}")
        )
        assert summary["folds"]["rules"][folder]["test_micro_f1"] == pytest.approx(_micro(scores["rules"])["f1"])
    rules = summary["summary"]["rules"]["micro_f1"]
    values = [summary["folds"]["rules"][f]["test_micro_f1"] for f in folds]
    assert rules["mean"] == pytest.approx(sum(values) / 2) and rules["folds"] == 2
    table = (tmp_path / "loro" / "loro.md").read_text(encoding="utf-8")
    assert table.startswith("Held-out regions, 2 folds (holdout-dongxing, holdout-lueyang)")
    assert json.loads((tmp_path / "loro" / "loro.json").read_text(encoding="utf-8")) == json.loads(json.dumps(summary))


@pytest.mark.slow
def test_aggregate_scores_an_ensemble_of_seeds_once_per_fold(tmp_path):
    folds = {"holdout-dongxing": "dongxing", "holdout-lueyang": "lueyang"}
    sweeps = [tmp_path / "s42", tmp_path / "s7"]
    for sweep in sweeps:
        for folder, region in folds.items():
            _tiny_checkpoint(sweep / folder)
            (sweep / folder / "metrics.json").write_text(json.dumps({"holdout": region}), encoding="utf-8")
    members = f"sweep_dir=[{sweeps[0]},{sweeps[1]}]"
    ensemble = aggregate_command(_cfg("aggregate", members, "ensemble=true", f"output={tmp_path / 'ens'}"))
    single = aggregate_command(_cfg("aggregate", f"sweep_dir={sweeps[0]}"))
    assert list(ensemble["folds"]["model"]) == list(folds)  # one score per fold, not one per seed
    for folder in folds:  # the same checkpoint twice scores as that checkpoint does
        assert ensemble["folds"]["model"][folder] == pytest.approx(single["folds"]["model"][folder])
    assert json.loads((tmp_path / "ens" / "loro.json").read_text(encoding="utf-8")) == json.loads(json.dumps(ensemble))
    # a sweep of ensemble runs (train.py with trainer.ensemble_seeds) scores the same ensembles
    for folder, region in folds.items():
        write_ensemble_manifest(tmp_path / "ens_sweep" / folder, [sweep / folder for sweep in sweeps])
        (tmp_path / "ens_sweep" / folder / "metrics.json").write_text(json.dumps({"holdout": region}), encoding="utf-8")
    as_runs = aggregate_command(_cfg("aggregate", f"sweep_dir={tmp_path / 'ens_sweep'}"))
    for folder in folds:
        assert as_runs["folds"]["model"][folder] == pytest.approx(ensemble["folds"]["model"][folder])
    with pytest.raises(ValueError, match="two or more sweeps"):
        aggregate_command(_cfg("aggregate", f"sweep_dir={sweeps[0]}", "ensemble=true", f"output={tmp_path / 'x'}"))
    (sweeps[1] / "holdout-lueyang" / "metrics.json").write_text(json.dumps({"holdout": "dongxing"}), encoding="utf-8")
    with pytest.raises(ValueError, match="holdout-lueyang .holdout lueyang. is missing or held out otherwise"):
        aggregate_command(_cfg("aggregate", members, "ensemble=true", f"output={tmp_path / 'x'}"))


def test_aggregate_pools_seeds_from_their_scored_sweeps(tmp_path):
    from govreport_ner.evaluate.folds import aggregate_folds

    for seed, micro in (("s42", 0.8), ("s7", 0.6)):
        folds = {
            "model": {"holdout-fold-0": {"test_micro_f1": micro}},
            "rules": {"holdout-fold-0": {"test_micro_f1": 0.7}},
        }
        summary = {"folds": folds, "summary": {k: aggregate_folds(v) for k, v in folds.items()}}
        (tmp_path / seed / "loro").mkdir(parents=True)
        (tmp_path / seed / "loro" / "loro.json").write_text(json.dumps(summary), encoding="utf-8")
    sweeps = f"sweep_dir=[{tmp_path / 's42'},{tmp_path / 's7'}]"
    with pytest.raises(ValueError, match="output=DIR"):
        aggregate_command(_cfg("aggregate", sweeps, "reuse_scored=true"))
    with pytest.raises(ValueError, match="share a folder name"):
        aggregate_command(_cfg("aggregate", f"sweep_dir=[{tmp_path / 's7'},{tmp_path / 'x' / 's7'}]", "output=out"))
    pooled = aggregate_command(_cfg("aggregate", sweeps, "reuse_scored=true", f"output={tmp_path / 'pooled'}"))
    assert pooled["summary"]["model"]["micro_f1"]["mean"] == pytest.approx(0.7)
    assert pooled["seeds"]["model"] == {"s42": {"micro_f1": 0.8}, "s7": {"micro_f1": 0.6}}
    assert (tmp_path / "pooled" / "loro.md").read_text(encoding="utf-8").startswith("Held-out regions, 2 runs (2 seeds")


def test_compare_pairs_two_settings_and_writes_the_table(tmp_path, capsys):
    from govreport_ner.commands.compare import compare_command
    from govreport_ner.evaluate.folds import aggregate_folds

    for setting, micro in (("four", [0.80, 0.85]), ("six", [0.83, 0.87])):
        folds = {"model": {f"holdout-fold-{i}": {"test_micro_f1": v} for i, v in enumerate(micro)}}
        summary = {"folds": folds, "summary": {"model": aggregate_folds(folds["model"])}}
        (tmp_path / setting / "loro").mkdir(parents=True)
        (tmp_path / setting / "loro" / "loro.json").write_text(json.dumps(summary), encoding="utf-8")
    paths = [
        f"baseline={tmp_path / 'four' / 'loro' / 'loro.json'}",
        f"candidate={tmp_path / 'six' / 'loro' / 'loro.json'}",
    ]
    comparison = compare_command(_cfg("compare", *paths, f"output={tmp_path / 'out' / 'four_vs_six'}"))
    assert comparison["differences"]["micro_f1"]["mean"] == pytest.approx(0.025)
    table = (tmp_path / "out" / "four_vs_six.md").read_text(encoding="utf-8")
    assert "| metric | four | six |" in table and "| +0.025 ± 0.005 | 2 / 0 of 2 | up |" in table
    assert table in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="aggregate.py"):
        compare_command(_cfg("compare", f"baseline={tmp_path / 'none.json'}", paths[1]))


def _without_result_ids(export: list[dict]) -> list[dict]:
    for task in export:
        for annotation in task["annotations"]:
            for result in annotation["result"]:
                result.pop("id", None)
    return export


@pytest.mark.slow
def test_annotation_report_reproduces_the_committed_gold_and_numbers(repo_root, tmp_path):
    from govreport_ner.commands.annotation import annotation_report_command

    cfg = _cfg(
        "annotation_report",
        f"gold_dir={tmp_path / 'gold'}",
        f"readme={tmp_path / 'README.md'}",
        f"numbers={tmp_path / 'measured.json'}",
    )
    numbers = annotation_report_command(cfg)
    committed = json.loads((repo_root / "annotations" / "measured.json").read_text(encoding="utf-8"))
    corpus_dir = Path(cfg.corpus.corpus_dir)
    if not corpus_dir.is_dir():  # the corpus gold's numbers need the corpus texts; the seed gold's do not
        committed.pop("corpus")
    assert json.loads(json.dumps(numbers)) == committed
    assert json.loads((tmp_path / "measured.json").read_text(encoding="utf-8")) == committed
    gold = sorted(p.name for p in (repo_root / "annotations" / "gold").glob("*.json"))
    assert sorted(p.name for p in (tmp_path / "gold").glob("*.json")) == gold
    for name in gold:
        written = json.loads((tmp_path / "gold" / name).read_text(encoding="utf-8"))
        expected = json.loads((repo_root / "annotations" / "gold" / name).read_text(encoding="utf-8"))
        assert _without_result_ids(written) == _without_result_ids(expected)
    if not corpus_dir.is_dir():
        pytest.skip(f"the seed gold was reproduced; the README section and corpus numbers need {corpus_dir} (absent)")
    section = (tmp_path / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- measured:begin -->", "<!-- measured:end -->"
    readme = (repo_root / "annotations" / "README.md").read_text(encoding="utf-8")
    assert section[section.index(begin) : section.index(end)] == readme[readme.index(begin) : readme.index(end)]


def test_evaluation_clauses_are_the_clauses_prediction_tags():
    """Evaluation scores the gold clauses; they must be cut as prediction cuts documents (no gold spans)."""
    from govreport_ner.annotation.labelstudio_format import read_export
    from govreport_ner.commands.config import gold_settings
    from govreport_ner.data.gold import load_gold_dataset
    from govreport_ner.predict.protocol import RulePredictor

    cfg = _cfg("evaluate", "checkpoint=rules")
    dataset, _ = load_gold_dataset(gold_settings(cfg.data))
    tasks, _ = read_export(cfg.data.gold)
    predictor = RulePredictor(cfg.max_chars)
    tagged = [
        (task.doc_id, task.offset + c.start, task.offset + c.end)
        for task in tasks
        for c in predictor.tag_documents([task.text])[0][0]
    ]
    assert sorted(zip(dataset["doc_id"], dataset["start"], dataset["end"], strict=True)) == sorted(tagged)


def test_config_groups_become_plain_settings():
    """The commands hand the stages plain settings: every key of a group is a field, none is left unread."""
    from dataclasses import FrozenInstanceError

    from omegaconf import OmegaConf

    from govreport_ner.commands.config import gold_settings, settings_from
    from govreport_ner.commands.train import train_run
    from govreport_ner.data.gold import GoldSettings, resolve_holdout
    from govreport_ner.train.settings import TrainerSettings

    cfg = _cfg("train", "+experiment=e5_small", "data.holdout=[xunxian,dongxing]", "trainer.oversample={DEADLINE: 4}")
    settings = gold_settings(cfg.data)
    assert isinstance(settings, GoldSettings) and settings.max_chars == cfg.data.max_chars
    assert settings.holdout == ["xunxian", "dongxing"] and resolve_holdout(settings) == ["浚县", "东兴市"]
    assert gold_settings(cfg.data, holdout=None).holdout is None
    run = train_run(cfg)
    assert run.model.crf is True and run.trainer.epochs == cfg.trainer.epochs
    assert run.trainer.oversample == {"DEADLINE": 4} and type(run.trainer.oversample) is dict
    assert run.gold == settings and run.cross_region is None
    with pytest.raises(FrozenInstanceError):
        run.trainer.epochs = 1
    with pytest.raises(ValueError, match=r"no setting\(s\) \['epoch'\]"):
        settings_from(TrainerSettings, OmegaConf.create({**OmegaConf.to_container(cfg.trainer), "epoch": 3}))


def test_model_card_needs_a_finished_run(tmp_path):
    from govreport_ner.commands.train import model_card_command

    with pytest.raises(FileNotFoundError, match="finished train.py output_dir"):
        model_card_command(_cfg("model_card", f"checkpoint={tmp_path}", "cross_region=null"))
