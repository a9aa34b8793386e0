"""``scripts/aggregate.py``: the cross-region summary of one training sweep, or of several seeds of it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, ListConfig

from govreport_ner.commands.config import gold_settings
from govreport_ner.data.dataset import split_by_region
from govreport_ner.data.gold import load_gold_dataset, resolve_holdout
from govreport_ner.evaluate.folds import aggregate_folds, combine_seeds, fold_scores, format_loro


def aggregate_command(cfg: DictConfig) -> dict:
    """Mean and spread per label of the model, model+rules and rules over the held-out folds.

    ``sweep_dir`` is one sweep (a folder of ``holdout-*/`` runs) or a list of them, one per
    seed: each is summarised into ``<sweep>/loro/`` and, with several, the runs of every seed
    are pooled into ``output`` (mean and spread over folds x seeds, and each seed's mean).
    With ``reuse_scored``, a sweep that already has ``loro/loro.json`` is read, not re-scored.
    With ``ensemble``, the sweeps are the members of one ensemble: each fold is scored once, by
    the ensemble of the sweeps' checkpoints of that fold, into ``output``.
    """
    sweeps = [Path(p) for p in _as_list(cfg.sweep_dir)]
    if not sweeps:
        raise ValueError("sweep_dir is empty: give a sweep folder, or a list of them (one per seed)")
    if cfg.get("ensemble"):
        if len(sweeps) < 2 or not cfg.get("output"):
            raise ValueError(
                "ensemble=true scores two or more sweeps (one per seed) as one model: give them and output=DIR"
            )
        return _write(score_folds(cfg, ensemble_folds(sweeps)), Path(cfg.output))
    if len({sweep.name for sweep in sweeps}) < len(sweeps):
        raise ValueError(f"two sweeps share a folder name (seeds are told apart by it): {[str(s) for s in sweeps]}")
    per_seed = {}
    for sweep in sweeps:
        scored = sweep / "loro" / "loro.json"
        if cfg.get("reuse_scored") and scored.is_file():
            per_seed[sweep.name] = json.loads(scored.read_text(encoding="utf-8"))
        else:
            per_seed[sweep.name] = _write(score_sweep(cfg, sweep), sweep / "loro")
    output = Path(cfg.output) if cfg.get("output") else None
    if len(sweeps) == 1:
        summary = per_seed[sweeps[0].name]
        if output and output.resolve() != (sweeps[0] / "loro").resolve():
            _write(summary, output)
        return summary
    if output is None:
        raise ValueError("several sweeps are pooled into one summary: say where it goes with output=DIR")
    return _write(combine_seeds(per_seed), output)


def fold_runs(sweep: Path) -> dict[str, dict]:
    """``{fold name: its metrics.json}`` of the runs of ``sweep`` that held a region out."""
    folds = {p.parent.name: json.loads(p.read_text()) for p in sorted(sweep.glob("holdout-*/metrics.json"))}
    folds = {name: m for name, m in folds.items() if m.get("holdout")}
    if not folds:
        raise FileNotFoundError(f"no fold with a held-out region under {sweep} (expected holdout-*/metrics.json)")
    return folds


def ensemble_folds(sweeps: Sequence[Path]) -> dict[str, tuple[list[Path], str]]:
    """``{fold name: (the sweeps' checkpoints of that fold, its holdout)}``; every sweep must have every fold."""
    runs = [fold_runs(sweep) for sweep in sweeps]
    folds = {}
    for name, metrics in runs[0].items():
        lacking = [
            str(sweep)
            for sweep, r in zip(sweeps, runs, strict=True)
            if r.get(name, {}).get("holdout") != metrics["holdout"]
        ]
        if lacking:
            raise ValueError(
                f"{name} (holdout {metrics['holdout']}) is missing or held out otherwise in {', '.join(lacking)}"
            )
        folds[name] = ([sweep / name for sweep in sweeps], metrics["holdout"])
    return folds


def score_sweep(cfg: DictConfig, sweep: Path) -> dict:
    """Every fold checkpoint of one sweep re-scored by the shipped predictor, with the hybrid and the rules."""
    return score_folds(cfg, {name: (sweep / name, m["holdout"]) for name, m in fold_runs(sweep).items()})


def score_folds(cfg: DictConfig, folds: dict[str, tuple]) -> dict:
    """``{fold name: (checkpoint or ensemble members, holdout)}`` scored: the model, the hybrid and the rules."""
    from govreport_ner.evaluate.scoring import evaluate_systems, systems_against_rules
    from govreport_ner.predict.predictors import load_predictor

    dataset, _ = load_gold_dataset(gold_settings(cfg.data))
    systems: dict[str, dict] = {"model": {}, "model+rules": {}, "rules": {}}
    for name, (checkpoint, holdout_value) in folds.items():
        holdout = resolve_holdout(gold_settings(cfg.data, holdout=holdout_value))
        test = split_by_region(dataset, holdout)["test"]
        predictor = load_predictor(checkpoint, num_threads=cfg.get("num_threads"))
        results = evaluate_systems(test, systems_against_rules(predictor, cfg.hybrid_rule_labels))
        for system, result in results.items():
            systems[system][name] = fold_scores(result["scores"]["strict"])
    return {"folds": systems, "summary": {name: aggregate_folds(f) for name, f in systems.items() if f}}


def _as_list(value) -> list[str]:
    return (
        [str(v) for v in value]
        if isinstance(value, ListConfig | Sequence) and not isinstance(value, str)
        else [str(value)]
    )


def _write(summary: dict, out: Path) -> dict:
    """loro.json and loro.md under ``out``; the table is printed too."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "loro.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    table = format_loro(summary)
    (out / "loro.md").write_text(table, encoding="utf-8")
    print(table)
    return summary
