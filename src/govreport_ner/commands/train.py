"""``scripts/train.py``: fine-tune a token classifier on the gold of ``data`` (see :mod:`govreport_ner.train`)."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from govreport_ner.commands.config import gold_settings, settings_from
from govreport_ner.commands.errors import expected_errors
from govreport_ner.train.settings import ModelSettings, SilverSettings, TrainerSettings, TrainRun
from govreport_ner.train.trainer import train

log = logging.getLogger(__name__)

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

    With two or more ``trainer.ensemble_seeds`` it trains one model per seed and makes them one
    ensemble (:func:`train_ensemble_command`).
    """
    seeds = list(cfg.trainer.get("ensemble_seeds") or [])
    if len(seeds) > 1:
        return train_ensemble_command(cfg, seeds)
    if seeds:  # one seed: one model of that seed
        cfg = seeded_config(cfg, seeds[0])
    return train_model_command(cfg)


def train_model_command(cfg: DictConfig) -> dict:
    """Train one model (see :func:`train_command`).

    A run that stops with an expected error before it saved anything (no hub, bad data)
    removes the run folder it created, so that no empty ``runs/<name>/holdout-...`` is left.
    """
    run = train_run(cfg)
    with run_folder(cfg):
        return train(run)


@contextmanager
def run_folder(cfg: DictConfig) -> Iterator[Path]:
    """``output_dir`` with the run's ``config.yaml``; removed again when the run stops with an
    expected error before anything else was saved in it."""
    output_dir = Path(cfg.output_dir)
    had_results = output_dir.is_dir() and any(p.name not in SETUP_FILES for p in output_dir.iterdir())
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True), encoding="utf-8")
    try:
        yield output_dir
    except expected_errors():
        if not had_results:
            remove_setup_only_run(output_dir)
        raise


def seeded_config(cfg: DictConfig, seed: int) -> DictConfig:
    """``cfg`` for one model of this seed (no ensemble)."""
    seeded = cfg.copy()
    with open_dict(seeded):
        seeded.trainer.seed = int(seed)
        seeded.trainer.ensemble_seeds = None
    return seeded


def member_config(cfg: DictConfig, seed: int, output_dir: Path) -> DictConfig:
    """The config of one ensemble member: one model of this seed in its own output_dir, without the
    cross-region summary (that describes the ensemble, not the member)."""
    member = seeded_config(cfg, seed)
    with open_dict(member):
        member.output_dir = str(output_dir)
        member.model_card.cross_region = None
    return member


def train_ensemble_command(cfg: DictConfig, seeds: list[int]) -> dict:
    """Train one model per seed into ``output_dir/seed-<s>/``, then write the ensemble's
    ``ensemble.json``, its held-out scores (``metrics.json``) and its model card (``README.md``).

    A member that finished before (``metrics.json`` and ``model/``) is kept when ``trainer.resume``
    is on, so an interrupted ensemble picks up where it stopped.
    """
    from govreport_ner.train.ensemble import finish_ensemble, finished_member

    if len(set(seeds)) < len(seeds):
        raise ValueError(f"trainer.ensemble_seeds repeats a seed: {seeds}")
    with run_folder(cfg) as output_dir:
        member_dirs = [output_dir / f"seed-{seed}" for seed in seeds]
        for seed, member_dir in zip(seeds, member_dirs, strict=True):
            if cfg.trainer.resume and finished_member(member_dir):
                log.info("ensemble member seed %s: already trained in %s", seed, member_dir)
            else:
                log.info("ensemble member seed %s of %s -> %s", seed, seeds, member_dir)
                train_model_command(member_config(cfg, seed, member_dir))
        return finish_ensemble(train_run(cfg), seeds, member_dirs)


def model_card_command(cfg: DictConfig) -> Path:
    """Rewrite a finished run's ``model/README.md`` with a cross-region summary made after it trained.

    The final model trains on all gold while its cross-region scores come from a fold sweep
    (``scripts/aggregate.py``) that may finish later; the run's own ``config.yaml`` and
    ``metrics.json`` give the rest of the card, as ``train.py`` wrote it.
    """
    from govreport_ner.data.gold import load_gold_splits
    from govreport_ner.model.ensemble import ensemble_members
    from govreport_ner.train.model_card import write_model_card

    run_dir = Path(cfg.checkpoint)
    card_dir = run_dir if ensemble_members(run_dir) else run_dir / "model"  # an ensemble's card is beside ensemble.json
    for needed in ("config.yaml", "metrics.json", card_dir.relative_to(run_dir)):
        if not (run_dir / needed).exists():
            raise FileNotFoundError(f"{run_dir / needed} not found: checkpoint= is a finished train.py output_dir")
    if cfg.cross_region and not Path(cfg.cross_region).is_file():
        raise FileNotFoundError(f"{cfg.cross_region} not found: cross_region= is a loro.json from scripts/aggregate.py")
    trained = OmegaConf.load(run_dir / "config.yaml")
    trained.model_card.cross_region = cfg.cross_region
    run = train_run(trained)
    train_clauses = load_gold_splits(run.gold)["train"]
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    card = write_model_card(run, card_dir, train_clauses, metrics)
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
