"""``scripts/aggregate.py``: the leave-one-region-out summary of a training sweep."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.commands.config import gold_settings
from govreport_ner.data.dataset import split_by_region
from govreport_ner.data.gold import load_gold_dataset, resolve_holdout
from govreport_ner.evaluate.folds import fold_scores, format_loro


def aggregate_command(cfg: DictConfig) -> dict:
    """Leave-one-region-out summary: mean and spread per label of the model, model+rules and rules."""
    from govreport_ner.evaluate.folds import aggregate_folds
    from govreport_ner.evaluate.scoring import evaluate_systems, systems_against_rules
    from govreport_ner.predict.predictors import load_predictor

    sweep = Path(cfg.sweep_dir)
    folds = {p.parent.name: json.loads(p.read_text()) for p in sorted(sweep.glob("holdout-*/metrics.json"))}
    folds = {name: m for name, m in folds.items() if m.get("holdout")}
    if not folds:
        raise FileNotFoundError(f"no fold with a held-out region under {sweep} (expected holdout-*/metrics.json)")
    dataset, _ = load_gold_dataset(gold_settings(cfg.data))
    systems: dict[str, dict] = {"model": {}, "model+rules": {}, "rules": {}}
    for name, metrics in folds.items():
        holdout = resolve_holdout(gold_settings(cfg.data, holdout=metrics["holdout"]))
        test = split_by_region(dataset, holdout)["test"]
        results = evaluate_systems(test, systems_against_rules(load_predictor(sweep / name), cfg.hybrid_rule_labels))
        for system, result in results.items():
            systems[system][name] = fold_scores(result["scores"]["strict"])
    summary = {"folds": systems, "summary": {name: aggregate_folds(f) for name, f in systems.items() if f}}
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "loro.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    table = format_loro(summary)
    (out / "loro.md").write_text(table, encoding="utf-8")
    print(table)
    return summary
