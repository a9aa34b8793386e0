"""``scripts/evaluate.py``: score a checkpoint (and the rules) on held-out gold clauses."""

from __future__ import annotations

from omegaconf import DictConfig

from govreport_ner.data.dataset import split_by_region
from govreport_ner.data.gold import load_gold_dataset, region_ids, resolve_holdout


def evaluation_clauses(cfg: DictConfig):
    """The gold clauses an evaluation runs on: held-out regions, or every clause."""
    dataset, _ = load_gold_dataset(cfg.data)
    splits = split_by_region(dataset, resolve_holdout(cfg.data))
    return splits.get(cfg.split, splits["train"])


def evaluate_command(cfg: DictConfig) -> dict:
    """Score a checkpoint and the rules on the same clauses; write JSON, Markdown and a chart."""
    from govreport_ner.evaluate.report import write_reports
    from govreport_ner.evaluate.scoring import evaluate_systems, systems_against_rules
    from govreport_ner.predict.predictors import load_predictor

    clauses = evaluation_clauses(cfg)
    systems = systems_against_rules(load_predictor(cfg), cfg.hybrid_rule_labels)
    main = next(iter(systems))
    results = evaluate_systems(clauses, systems)
    paths = write_reports(results, cfg.output_dir, main, region_ids(cfg.data))
    for name, result in results.items():
        micro = result["scores"]["strict"]["micro"]
        print(
            f"{name:6s} strict micro P {micro['precision']:.3f} R {micro['recall']:.3f} F1 {micro['f1']:.3f} "
            f"on {len(clauses)} clauses"
        )
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return {name: r["scores"] for name, r in results.items()}
