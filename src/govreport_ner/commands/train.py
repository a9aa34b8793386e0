"""``scripts/train.py``: fine-tune a token classifier on the gold of ``data`` (see :mod:`govreport_ner.train`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from govreport_ner.commands.config import gold_settings, settings_from
from govreport_ner.commands.errors import expected_errors
from govreport_ner.train.settings import ModelSettings, SilverSettings, TrainerSettings, TrainRun
from govreport_ner.train.trainer import train

# What a run leaves in output_dir before its first checkpoint: Hydra's folder and the config.
SETUP_FILES = {"hydra", "config.yaml"}


def train_run(cfg: DictConfig) -> TrainRun:
    """The composed ``train`` config as the plain settings of one training run."""
    return TrainRun(
        name=cfg.name,
        output_dir=Path(cfg.output_dir),
        gold=gold_settings(cfg.data),
        model=settings_from(ModelSettings, cfg.model),
        trainer=settings_from(TrainerSettings, cfg.trainer),
        cross_region=cfg.model_card.cross_region,
        silver=settings_from(SilverSettings, cfg.silver) if "silver" in cfg else None,
    )


def train_command(cfg: DictConfig) -> dict:
    """Train, evaluate on the held-out regions, write the checkpoint and reports; the metrics.

    A run that stops with an expected error before it saved anything (no hub, bad data)
    removes the run folder it created, so that no empty ``runs/<name>/holdout-...`` is left.
    """
    run = train_run(cfg)
    output_dir = run.output_dir
    had_results = output_dir.is_dir() and any(p.name not in SETUP_FILES for p in output_dir.iterdir())
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True), encoding="utf-8")
    try:
        return train(run)
    except expected_errors():
        if not had_results:
            remove_setup_only_run(output_dir)
        raise


def model_card_command(cfg: DictConfig) -> Path:
    """Rewrite a finished run's ``model/README.md`` with a cross-region summary made after it trained.

    The final model trains on all gold while its cross-region scores come from a fold sweep
    (``scripts/aggregate.py``) that may finish later; the run's own ``config.yaml`` and
    ``metrics.json`` give the rest of the card, as ``train.py`` wrote it.
    """
    from govreport_ner.data.gold import load_gold_splits
    from govreport_ner.train.model_card import write_model_card

    run_dir = Path(cfg.checkpoint)
    for needed in ("config.yaml", "metrics.json", "model"):
        if not (run_dir / needed).exists():
            raise FileNotFoundError(f"{run_dir / needed} not found: checkpoint= is a finished train.py output_dir")
    if cfg.cross_region and not Path(cfg.cross_region).is_file():
        raise FileNotFoundError(f"{cfg.cross_region} not found: cross_region= is a loro.json from scripts/aggregate.py")
    trained = OmegaConf.load(run_dir / "config.yaml")
    trained.model_card.cross_region = cfg.cross_region
    run = train_run(trained)
    train_clauses = load_gold_splits(run.gold)["train"]
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    card = write_model_card(run, run_dir / "model", train_clauses, metrics)
    print(f"model card: {card}")
    return card


def remove_setup_only_run(output_dir: Path) -> None:
    """Remove ``output_dir`` when it holds only Hydra's folder and the config, then its empty parents."""
    if not output_dir.is_dir() or any(p.name not in SETUP_FILES for p in output_dir.iterdir()):
        return
    shutil.rmtree(output_dir, ignore_errors=True)
    cwd = Path.cwd().resolve()
    for parent in output_dir.resolve().parents:
        if parent == cwd or cwd not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()
