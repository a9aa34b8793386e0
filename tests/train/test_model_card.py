"""The model card's cross-region section, from one sweep's or several seeds' fold summary."""

from __future__ import annotations

import json

from govreport_ner.commands.train import train_run
from govreport_ner.evaluate.folds import aggregate_folds, combine_seeds
from govreport_ner.train.model_card import _cross_region, _data_variant
from tests.helpers import compose_train


def _sweep(model_unit: float) -> dict:
    folds = {
        "model": {f"holdout-fold-{i}": {"test_micro_f1": 0.85, "test_f1_UNIT": model_unit} for i in range(5)},
        "rules": {f"holdout-fold-{i}": {"test_micro_f1": 0.72, "test_f1_UNIT": 0.96} for i in range(5)},
    }
    return {"folds": folds, "summary": {k: aggregate_folds(v) for k, v in folds.items()}}


def test_card_names_folds_and_seeds_and_where_the_rules_do_better(tmp_path):
    path = tmp_path / "loro.json"
    path.write_text(json.dumps(combine_seeds({"s42": _sweep(0.95), "s7": _sweep(0.95), "s13": _sweep(0.95)})))
    text = "\n".join(_cross_region(str(path)))
    assert "5 province-grouped folds x 3 seeds" in text
    assert "| model | 0.850 ± 0.000 |" in text
    assert "rules do better than this model alone on UNIT" in text and "rule_labels=[UNIT]" in text


def test_card_of_one_sweep_where_the_model_wins(tmp_path):
    path = tmp_path / "loro.json"
    path.write_text(json.dumps(_sweep(0.97)))
    text = "\n".join(_cross_region(str(path)))
    assert "5 province-grouped folds, mean" in text and "rules do better" not in text


def test_card_names_the_extra_gold_batches_without_this_machines_paths():
    text = _data_variant(train_run(compose_train(["+experiment=e5_small"])))
    assert "unmerged gold batches corpus_next, corpus_next2, corpus_next3 (held-out provinces left out)" in text
    assert "/" not in text
    assert _data_variant(train_run(compose_train(["+experiment=e5_small", "data.extra_train_gold=null"]))) == ""
