"""``scripts/evaluate.py``: score a checkpoint (and the rules) on held-out gold clauses.

Evaluation cannot flatter: the regions a checkpoint was trained on are read from its
``config.yaml`` (or ``metrics.json``), and evaluating on any of them is refused unless
``allow_trained_regions=true``, which marks the results as such. The split, the held-out
setting and the regions evaluated are written into the results.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from govreport_ner.commands.config import gold_settings, holdout_name
from govreport_ner.data.dataset import split_by_region
from govreport_ner.data.gold import load_gold_dataset, region_ids, resolve_holdout
from govreport_ner.model.ensemble import ensemble_members
from govreport_ner.predict.predictors import RULES, checkpoint_list

log = logging.getLogger(__name__)

SPLITS = ("test", "train", "all")


def evaluation_clauses(cfg: DictConfig):
    """The gold clauses an evaluation runs on: ``split=test`` the held-out regions of ``data.holdout``
    (every clause when it is null), ``train`` the other regions, ``all`` every clause."""
    if cfg.split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {cfg.split!r}")
    settings = gold_settings(cfg.data)
    dataset, _ = load_gold_dataset(settings)
    if cfg.split == "all":
        return dataset
    splits = split_by_region(dataset, resolve_holdout(settings))
    if cfg.split == "test":
        return splits.get("test", splits["train"])  # no held-out region: every clause
    return splits["train"]


def checkpoint_holdout(checkpoint: str | Path, data_cfg: DictConfig) -> tuple[list[str] | None, str] | None:
    """``(held-out regions, where it was read)`` of a training checkpoint, or None when it does not say.

    ``config.yaml`` (``data.holdout`` and ``data.folds``) is read first, then ``metrics.json``;
    ``checkpoint`` may be the training ``output_dir`` or its ``model/`` folder.
    """
    folder = Path(checkpoint)
    for base in (folder, folder.parent):
        config, metrics = base / "config.yaml", base / "metrics.json"
        if config.is_file():
            data = OmegaConf.load(config).get("data") or {}
            if "holdout" in data:
                folds = data.get("folds", data_cfg.get("folds"))
                return resolve_holdout(gold_settings(data_cfg, holdout=data.get("holdout"), folds=folds)), str(config)
        if metrics.is_file():
            values = json.loads(metrics.read_text(encoding="utf-8"))
            if "holdout" in values:
                return resolve_holdout(gold_settings(data_cfg, holdout=values["holdout"])), str(metrics)
    return None


def members_holdout(checkpoints: list[str], data_cfg: DictConfig) -> tuple[list[str] | None, str] | None:
    """:func:`checkpoint_holdout` of one checkpoint, or of an ensemble: the regions every member held out."""
    found = [checkpoint_holdout(c, data_cfg) for c in checkpoints]
    if len(found) == 1 or any(f is None for f in found):
        return found[0] if len(found) == 1 else None
    held = set.intersection(*(set(f[0] or []) for f in found))
    return sorted(held) or None, ", ".join(f[1] for f in found)


def evaluated_regions(cfg: DictConfig, clauses) -> dict:
    """What is evaluated, and whether the checkpoint trained on it: written into the results.

    Raises ``ValueError`` when the checkpoint trained on an evaluated region, unless
    ``allow_trained_regions`` is set (then the results say so).
    """
    regions = sorted(set(clauses["region"]))
    info = {
        "split": cfg.split,
        "holdout": holdout_name(cfg.data.holdout),
        "regions": regions,
        "clauses": len(clauses),
        "checkpoint": ", ".join(checkpoint_list(cfg.checkpoint)),
    }
    if str(cfg.checkpoint) == RULES:
        info["trained_regions_evaluated"] = []
        return info
    found = members_holdout(checkpoint_list(cfg.checkpoint), cfg.data)
    if found is None:
        info["trained_regions_evaluated"] = "unknown"
        log.warning(
            "%s has no config.yaml or metrics.json saying which regions it was trained on: "
            "these scores may include its training data",
            cfg.checkpoint,
        )
        return info
    held, source = found
    trained = sorted(set(regions) - set(held or []))
    info["checkpoint_holdout"] = held
    info["trained_regions_evaluated"] = trained
    if trained:
        message = (
            f"checkpoint {cfg.checkpoint} was trained on {', '.join(trained)} (held out: "
            f"{', '.join(held) if held else 'none'}, from {source}), which this evaluation "
            f"(split={cfg.split}, data.holdout={info['holdout']}) would score"
        )
        if not cfg.allow_trained_regions:
            raise ValueError(message + ": pass the checkpoint's data.holdout, or allow_trained_regions=true")
        log.warning("%s: results marked trained_regions_evaluated", message)
    return info


def output_dir(cfg: DictConfig) -> Path | None:
    """Where the reports go: ``output_dir``, else ``<checkpoint>/evaluation-<holdout>``; none for the rules."""
    if cfg.output_dir:
        return Path(cfg.output_dir)
    if str(cfg.checkpoint) == RULES:
        return None  # nothing is written into the working tree
    if isinstance(cfg.checkpoint, str) and ensemble_members(cfg.checkpoint):  # an ensemble trained as one run
        return Path(cfg.checkpoint) / f"evaluation-{holdout_name(cfg.data.holdout)}"
    members = checkpoint_list(cfg.checkpoint)
    ensemble = "ensemble-" if len(members) > 1 else ""  # a list's reports go beside its first member's
    return Path(members[0]) / f"evaluation-{ensemble}{holdout_name(cfg.data.holdout)}"


def evaluate_command(cfg: DictConfig) -> dict:
    """Score a checkpoint and the rules on the same clauses; write JSON, Markdown and a chart."""
    from govreport_ner.evaluate.report import write_reports
    from govreport_ner.evaluate.scoring import evaluate_systems, systems_against_rules
    from govreport_ner.predict.predictors import load_predictor

    clauses = evaluation_clauses(cfg)
    evaluated = evaluated_regions(cfg, clauses)
    systems = systems_against_rules(load_predictor(cfg), cfg.hybrid_rule_labels)
    main = next(iter(systems))
    results = evaluate_systems(clauses, systems)
    print(f"evaluated split={evaluated['split']} regions {', '.join(evaluated['regions'])}")
    if evaluated["trained_regions_evaluated"]:
        print(f"WARNING: the checkpoint was trained on {evaluated['trained_regions_evaluated']}: not a held-out score")
    for name, result in results.items():
        micro = result["scores"]["strict"]["micro"]
        print(
            f"{name:6s} strict micro P {micro['precision']:.3f} R {micro['recall']:.3f} F1 {micro['f1']:.3f} "
            f"on {len(clauses)} clauses"
        )
    out = output_dir(cfg)
    if out is None:
        print("no reports written (checkpoint=rules); give output_dir=DIR to write them")
    else:
        paths = write_reports(results, out, main, region_ids(cfg.data.seed_dir), evaluated)
        print("wrote " + ", ".join(str(p) for p in paths.values()))
    return {name: r["scores"] for name, r in results.items()}
