"""Every experiment config composes and trains one step with the tiny model; checkpoints load; resume works."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from govreport_ner.commands.config import CONFIG_DIR
from govreport_ner.commands.train import train_command
from govreport_ner.model.modeling import ModelLoadError, load_pretrained
from govreport_ner.model.tagger import Tagger
from tests.helpers import compose_train, seed_gold_holding_out_dongxing

pytestmark = pytest.mark.slow  # runs a script, trains, or executes a notebook

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))


def test_experiments_are_found():
    assert {"bert_base", "e5_small", "smoke"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_trains_one_step_with_the_tiny_model(experiment, tmp_path):
    cfg = compose_train(
        [
            f"+experiment={experiment}",
            "data=seeds",  # the corpus gold needs ../shared; the seeds train the same code path
            "data.extra_train_gold=null",  # e5_small's reviewed batches are corpus excerpts too (tested with the corpus gold)
            "model=tiny",
            "trainer.max_steps=1",
            "trainer.eval_strategy=no",
            "trainer.save_strategy=no",
            *seed_gold_holding_out_dongxing(tmp_path),
        ]
    )
    metrics = train_command(cfg)
    seeds = cfg.trainer.ensemble_seeds  # an ensemble experiment trains one model per seed
    runs = [tmp_path / f"seed-{seed}" for seed in seeds] if seeds else [tmp_path]
    assert metrics["train_steps"] == len(runs)
    assert metrics["holdout"] == "dongxing" and metrics["test_clauses"] > 0
    assert 0.0 <= metrics["test_micro_f1"] <= 1.0
    assert all((run / "model" / "config.json").exists() for run in runs)
    assert (tmp_path / "config.yaml").exists() and all((run / "train_log.jsonl").exists() for run in runs)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["train_clauses"] + saved["test_clauses"] > 250
    config = json.loads((runs[0] / "model" / "config.json").read_text())
    assert config["id2label"]["1"] == "B-QUANTITY"
    tagger = Tagger.from_checkpoint(runs[0])
    spans = tagger.predict_spans("完成新造林1万亩。")
    assert all(0 <= s.start < s.end <= 9 for s in spans)


def test_oversampling_adds_copies_of_clauses_with_the_label(tmp_path):
    overrides = ["+experiment=smoke", "data=seeds", "model=tiny", "trainer.max_steps=1", "trainer.save_strategy=no"]
    cfg = compose_train([*overrides, "trainer.oversample={DEADLINE: 3}", *seed_gold_holding_out_dongxing(tmp_path)])
    metrics = train_command(cfg)
    extra = metrics["train_clauses_oversampled"] - metrics["train_clauses"]
    assert extra > 0 and extra % 2 == 0  # two copies more of each clause with a DEADLINE
    card = (tmp_path / "model" / "README.md").read_text(encoding="utf-8")
    assert "{'DEADLINE': 3}" in card and "O-tag loss weight 1.0" in card  # the softmax head weighs O


def test_a_learning_curve_run_trains_on_a_share_of_the_regions_and_says_so(tmp_path):
    overrides = ["+experiment=smoke", "data=seeds", "model=tiny", "trainer.max_steps=1", "trainer.save_strategy=no"]
    full = train_command(compose_train([*overrides, *seed_gold_holding_out_dongxing(tmp_path / "full")]))
    half_dir = tmp_path / "half"
    half = train_command(
        compose_train([*overrides, "data.train_fraction=0.5", *seed_gold_holding_out_dongxing(half_dir)])
    )
    assert 0 < half["train_clauses"] < full["train_clauses"]
    assert half["test_clauses"] == full["test_clauses"]  # the held-out region is scored whole
    card = (half_dir / "model" / "README.md").read_text(encoding="utf-8")
    assert "from 2 regions" in card and "0.5 of the training regions kept" in card


def test_experiment_overrides_only_what_differs():
    cfg = compose_train(["+experiment=e5_small"])
    assert cfg.model.name_or_path == "intfloat/multilingual-e5-small"
    assert cfg.name == "e5_small" and cfg.trainer.epochs == 6 and cfg.trainer.oversample == {"DEADLINE": 4}
    assert cfg.model.crf and cfg.model.word_boundaries  # the setting measured best (reports/experiments.md)
    assert cfg.data.corpus_gold.endswith("annotations/corpus") and cfg.data.folds == 5
    batches = [folder.rsplit("/", 1)[-1] for folder in cfg.data.extra_train_gold]
    assert batches == ["corpus_next", "corpus_next2", "corpus_next3"]  # the three reviewed batches
    assert list(cfg.trainer.ensemble_seeds) == [42, 7]  # the measured ensemble of two seeds
    assert all(Path(folder).is_dir() for folder in cfg.data.extra_train_gold)
    assert cfg.data.holdout is None and cfg.output_dir == "runs/e5_small/holdout-none"
    assert compose_train(["+experiment=bert_base"]).model.name_or_path == "bert-base-chinese"
    local = compose_train(["+experiment=e5_small", "model.name_or_path=/some/dir", "data.holdout=xunxian"])
    assert local.model.name_or_path == "/some/dir" and local.output_dir == "runs/e5_small/holdout-xunxian"


@pytest.mark.parametrize("model_overrides", [[], ["model.word_boundaries=true"]], ids=["plain", "word_boundaries"])
def test_resume_from_the_last_checkpoint(tmp_path, model_overrides):
    common = [
        "+experiment=smoke",
        *model_overrides,
        "trainer.save_strategy=steps",
        "trainer.save_steps=1",
        "trainer.keep_checkpoints=true",  # as if the first run had been interrupted
        f"data.gold={ROOT / 'annotations' / 'gold'}",
        f"data.seed_dir={ROOT / 'seeds'}",
        f"output_dir={tmp_path}",
    ]
    first = train_command(compose_train([*common, "trainer.max_steps=2"]))
    assert first["train_steps"] == 2 and (tmp_path / "checkpoints" / "checkpoint-2").is_dir()
    second = train_command(compose_train([*common, "trainer.max_steps=3"]))
    assert second["train_steps"] == 3
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    steps = [row["step"] for row in log if "loss" in row]
    assert steps == [1, 2, 3]  # the resumed run kept the first two steps' log and added one


def run_train(*overrides: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py"), *overrides],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_a_finished_run_removes_its_intermediate_checkpoints(tmp_path):
    common = [
        "+experiment=smoke",
        "trainer.save_strategy=steps",
        "trainer.save_steps=1",
        "trainer.max_steps=2",
        f"data.gold={ROOT / 'annotations' / 'gold'}",
        f"data.seed_dir={ROOT / 'seeds'}",
    ]
    train_command(compose_train([*common, f"output_dir={tmp_path / 'a'}"]))
    assert not (tmp_path / "a" / "checkpoints").exists()
    assert (tmp_path / "a" / "model" / "config.json").exists()
    train_command(compose_train([*common, f"output_dir={tmp_path / 'b'}", "trainer.keep_checkpoints=true"]))
    assert (tmp_path / "b" / "checkpoints" / "checkpoint-2").is_dir()


def test_smoke_experiment_runs_from_the_command_line(tmp_path):
    result = run_train("+experiment=smoke", f"output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "metrics.json").read_text())["train_steps"] == 4


def test_hub_model_without_the_hub_fails_with_a_clear_message(tmp_path):
    # data=seeds: the corpus gold would need ../shared/corpus, which is not what this test is about
    result = run_train("+experiment=bert_base", "data=seeds", f"output_dir={tmp_path}", env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode != 0
    message = result.stderr + result.stdout
    assert "cannot load 'bert-base-chinese'" in message
    assert "model hub could not be reached" in message and "model.name_or_path=DIR" in message


@pytest.mark.parametrize(
    ("overrides", "hub_id"),
    [
        (["+experiment=bert_base", "data=seeds"], "bert-base-chinese"),  # data=seeds: no ../shared/corpus needed
        # an ensemble: nothing of its folder is left either
        (["+experiment=e5_small", "data=seeds", "data.extra_train_gold=null"], "intfloat/multilingual-e5-small"),
    ],
    ids=["bert_base", "e5_small_ensemble"],
)
def test_hub_model_offline_is_one_line_and_leaves_no_run_folder(tmp_path, overrides, hub_id):
    result = run_train(*overrides, env={"HF_HUB_OFFLINE": "1"}, cwd=tmp_path)  # output_dir: runs/...
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert f"cannot load '{hub_id}'" in line
    assert list(tmp_path.iterdir()) == []  # no empty runs/<name>/holdout-none/hydra


def test_load_error_for_a_folder_that_is_not_a_checkpoint(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load the model in"):
        load_pretrained(str(tmp_path))


def test_hparams_search_sweeps_settings_over_the_folds():
    cfg = compose_train(["+experiment=e5_small", "+hparams_search=e5_small_grid"])
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        full = compose(
            "train", overrides=["+experiment=e5_small", "+hparams_search=e5_small_grid"], return_hydra_config=True
        )
    params = full.hydra.sweeper.params
    assert full.hydra.mode.name == "MULTIRUN"
    assert params["data.holdout"] == "fold-0,fold-1,fold-2,fold-3,fold-4"
    assert {"trainer.learning_rate", "trainer.epochs", "trainer.batch_size"} <= set(params)
    assert cfg.name.startswith("e5_small_hp/lr") and cfg.name.endswith(f"-bs{cfg.trainer.batch_size}")


def test_crf_layer_trains_saves_and_decodes_the_same_with_torch_and_onnx(tmp_path):
    from govreport_ner.model.crf import CrfScores
    from govreport_ner.predict.predictors import load_predictor

    cfg = compose_train(
        [
            "+experiment=smoke",
            "model.crf=true",
            "trainer.max_steps=30",
            *seed_gold_holding_out_dongxing(tmp_path),
        ]
    )
    metrics = train_command(cfg)
    assert metrics["train_steps"] == 30
    assert CrfScores.load(tmp_path / "model") is not None
    tagger = Tagger.from_checkpoint(tmp_path)
    assert tagger.crf is not None
    text = "完成新造林1.8万亩，年底前建成县医院门诊综合楼。深化“放管服”改革。"
    torch_spans = load_predictor(tmp_path, engine="torch").predict_spans(text)
    onnx_spans = load_predictor(tmp_path, engine="onnx", onnx_dir=tmp_path / "onnx").predict_spans(text)
    assert [(s.start, s.end, s.label) for s in torch_spans] == [(s.start, s.end, s.label) for s in onnx_spans]
    card = (tmp_path / "model" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlanguage:") and "pipeline_tag: token-classification" in card and "CRF" in card
    assert "O-tag loss weight" not in card  # a CRF's likelihood has no class weights
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


@pytest.mark.parametrize("crf", [False, True], ids=["softmax", "crf"])
def test_word_boundaries_train_save_and_predict_the_same_with_torch_and_onnx(tmp_path, crf):
    from safetensors.torch import load_file

    from govreport_ner.model.crf import CrfScores
    from govreport_ner.model.word_embedding import WORD_EMBEDDING_FILE, WordBoundaryModel
    from govreport_ner.predict.predictors import load_predictor

    overrides = ["+experiment=smoke", "model.word_boundaries=true", f"model.crf={str(crf).lower()}"]
    cfg = compose_train([*overrides, *seed_gold_holding_out_dongxing(tmp_path)])
    metrics = train_command(cfg)
    assert metrics["train_steps"] == 4 and 0.0 <= metrics["test_micro_f1"] <= 1.0
    model_dir = tmp_path / "model"
    assert json.loads((model_dir / "govreport_ner.json").read_text())["word_boundaries"] is True
    vectors = load_file(str(model_dir / WORD_EMBEDDING_FILE))["weight"]
    assert vectors.shape == (5, cfg.model.hidden_size)
    assert vectors[:4].abs().sum(-1).all()  # trained away from zero: the Trainer fed word_tags to forward
    assert "jieba word-boundary input: True" in (model_dir / "README.md").read_text(encoding="utf-8")
    tagger = Tagger.from_checkpoint(tmp_path)
    assert isinstance(tagger.model, WordBoundaryModel) and tagger.word_boundaries
    assert (CrfScores.load(model_dir) is not None) == crf and (tagger.crf is not None) == crf
    text = "完成新造林1.8万亩，年底前建成县医院门诊综合楼。深化“放管服”改革。"
    torch_spans = load_predictor(tmp_path, engine="torch").predict_spans(text)
    onnx_predictor = load_predictor(tmp_path, engine="onnx", onnx_dir=tmp_path / "onnx")
    assert onnx_predictor.tagger.word_boundaries
    onnx_spans = onnx_predictor.predict_spans(text)
    assert [(s.start, s.end, s.label) for s in torch_spans] == [(s.start, s.end, s.label) for s in onnx_spans]
    # Four steps tag little; the engines' logits agree, and they depend on the tags
    encoding = tagger.aligner.encode(text)
    inputs = tagger._pad(tagger.aligner.windows(encoding, word_tags=tagger._word_tags(text, encoding.spans)))
    expected = tagger._logits(inputs).numpy()
    assert np.allclose(onnx_predictor.tagger._logits(inputs), expected, atol=1e-4)
    blank = {**inputs, "word_tags": np.full_like(inputs["word_tags"], 4)}
    assert not np.allclose(tagger._logits(blank).numpy(), expected, atol=1e-4)


def test_model_card_is_rewritten_with_a_later_cross_region_summary(tmp_path):
    from govreport_ner.commands.train import model_card_command
    from govreport_ner.evaluate.folds import aggregate_folds

    run_dir = tmp_path / "run"
    train_command(compose_train(["+experiment=smoke", *seed_gold_holding_out_dongxing(run_dir)]))
    card_path = run_dir / "model" / "README.md"
    before = card_path.read_text(encoding="utf-8")
    assert "No cross-region evaluation was given" in before
    folds = {"model": {"holdout-fold-0": {"test_micro_f1": 0.812, "test_f1_UNIT": 0.9}}}
    loro = tmp_path / "loro.json"
    loro.write_text(json.dumps({"folds": folds, "summary": {"model": aggregate_folds(folds["model"])}}))
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("model_card", overrides=[f"checkpoint={run_dir}", f"cross_region={loro}"])
    assert model_card_command(cfg) == card_path
    after = card_path.read_text(encoding="utf-8")
    assert "| model | 0.812 ± 0.000 |" in after and "No cross-region evaluation" not in after
    # the rest of the card is the one train.py wrote
    assert after.split("## Evaluation across regions")[0] == before.split("## Evaluation across regions")[0]
    assert after.split("## Intended use")[1] == before.split("## Intended use")[1]


def test_an_ensemble_run_trains_one_model_per_seed_and_loads_as_one_checkpoint(tmp_path):
    from omegaconf import OmegaConf

    from govreport_ner.commands.train import model_card_command
    from govreport_ner.evaluate.folds import aggregate_folds
    from govreport_ner.predict.predictors import load_predictor

    common = ["+experiment=smoke", "trainer.max_steps=1", "trainer.save_strategy=no"]
    with pytest.raises(ValueError, match="repeats a seed"):
        train_command(compose_train([*common, "trainer.ensemble_seeds=[3,3]", f"output_dir={tmp_path / 'x'}"]))
    overrides = [*common, "trainer.ensemble_seeds=[1,2]", *seed_gold_holding_out_dongxing(tmp_path)]
    metrics = train_command(compose_train(overrides))
    assert metrics["ensemble_seeds"] == [1, 2] and metrics["members"] == ["seed-1", "seed-2"]
    assert metrics["holdout"] == "dongxing" and metrics["train_steps"] == 2 and metrics["test_clauses"] > 0
    assert 0.0 <= metrics["test_micro_f1"] <= 1.0 and len(metrics["member_test_micro_f1"]) == 2
    for seed in (1, 2):  # each member is an ordinary run of its own seed
        member = tmp_path / f"seed-{seed}"
        assert OmegaConf.load(member / "config.yaml").trainer.seed == seed
        assert json.loads((member / "metrics.json").read_text())["train_steps"] == 1
        assert "seed " + str(seed) in (member / "model" / "README.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "(an ensemble of 2 seeds)" in card and "seeds 1, 2 (one model each)" in card and "`seed-2/`" in card
    predictor = load_predictor(tmp_path, engine="torch", num_threads=1)
    assert predictor.engine == "torch x 2" and predictor.model_version.startswith("ensemble(")
    # run again: the finished members are kept, the ensemble is scored the same
    weights = tmp_path / "seed-1" / "model" / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert train_command(compose_train(overrides))["test_micro_f1"] == metrics["test_micro_f1"]
    assert weights.stat().st_mtime_ns == before
    # a cross-region summary made later goes into the ensemble's card
    folds = {"model": {"holdout-fold-0": {"test_micro_f1": 0.9, "test_f1_UNIT": 0.98}}}
    loro = tmp_path / "loro.json"
    loro.write_text(json.dumps({"folds": folds, "summary": {"model": aggregate_folds(folds["model"])}}))
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("model_card", overrides=[f"checkpoint={tmp_path}", f"cross_region={loro}"])
    assert model_card_command(cfg) == tmp_path / "README.md"
    assert "| model | 0.900 ± 0.000 |" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_one_ensemble_seed_trains_one_model_of_that_seed_with_its_card_summary(tmp_path):
    from omegaconf import OmegaConf

    from govreport_ner.evaluate.folds import aggregate_folds

    folds = {"model": {"holdout-fold-0": {"test_micro_f1": 0.9, "test_f1_UNIT": 0.98}}}
    loro = tmp_path / "loro.json"
    loro.write_text(json.dumps({"folds": folds, "summary": {"model": aggregate_folds(folds["model"])}}))
    run = tmp_path / "run"
    overrides = ["+experiment=smoke", "trainer.max_steps=1", "trainer.save_strategy=no", "trainer.ensemble_seeds=[5]"]
    train_command(compose_train([*overrides, f"model_card.cross_region={loro}", f"output_dir={run}"]))
    assert OmegaConf.load(run / "config.yaml").trainer.seed == 5
    assert not (run / "seed-5").exists() and not (run / "ensemble.json").exists()
    assert "| model | 0.900 ± 0.000 |" in (run / "model" / "README.md").read_text(encoding="utf-8")
