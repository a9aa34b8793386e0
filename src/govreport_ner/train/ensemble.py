"""An ensemble of seeds as one trained model: its manifest, held-out scores and model card.

``train.py`` with ``trainer.ensemble_seeds`` trains each member like any run, into
``output_dir/seed-<s>/``; this module then makes the folder one checkpoint that
``predict.py checkpoint=<output_dir>`` loads (:mod:`govreport_ner.model.ensemble`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from govreport_ner.data.gold import load_gold_splits
from govreport_ner.model.ensemble import write_ensemble_manifest
from govreport_ner.train.model_card import write_model_card
from govreport_ner.train.settings import TrainRun

log = logging.getLogger(__name__)


def finished_member(member_dir: Path) -> bool:
    """Whether ``member_dir`` holds a finished training run (its metrics and its model)."""
    return (member_dir / "metrics.json").is_file() and (member_dir / "model" / "config.json").is_file()


def finish_ensemble(run: TrainRun, seeds: Sequence[int], member_dirs: Sequence[Path]) -> dict:
    """Write ``ensemble.json``, the ensemble's held-out scores (``metrics.json``) and its card (``README.md``)."""
    from govreport_ner.predict.predictors import build_predictor
    from govreport_ner.train.trainer import evaluate_tagger

    output_dir = Path(run.output_dir)
    seeds = [int(s) for s in seeds]
    write_ensemble_manifest(output_dir, member_dirs, seeds=seeds)
    members = [json.loads((d / "metrics.json").read_text(encoding="utf-8")) for d in member_dirs]
    splits = load_gold_splits(run.gold)
    train_clauses, test_clauses = splits["train"], splits.get("test")
    metrics = {
        "ensemble_seeds": seeds,
        "members": [Path(d).name for d in member_dirs],
        "train_seconds": sum(m["train_seconds"] for m in members),
        "train_steps": sum(m["train_steps"] for m in members),
        "epochs": run.trainer.epochs,
        "train_clauses": members[0]["train_clauses"],
        "holdout": run.gold.holdout,
        "torch_threads": members[0]["torch_threads"],
    }
    if test_clauses is not None:
        predictor = build_predictor([str(d) for d in member_dirs], engine="torch", num_threads=run.trainer.num_threads)
        test_metrics, _ = evaluate_tagger(predictor.tagger, test_clauses, run.trainer.eval_batch_size)
        metrics.update({f"test_{k}": v for k, v in test_metrics.items()})
        metrics["test_clauses"] = len(test_clauses)
        metrics["member_test_micro_f1"] = [m.get("test_micro_f1") for m in members]
    (output_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    card = write_model_card(run, output_dir, train_clauses, metrics)
    log.info("ensemble of seeds %s: %s; model card: %s", seeds, json.dumps(metrics, ensure_ascii=False), card)
    return metrics
