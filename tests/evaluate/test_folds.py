"""Fold summaries: mean and spread per metric, and several seeds pooled (hand-made fold scores)."""

from __future__ import annotations

import json

import pytest

from govreport_ner.evaluate.folds import (
    aggregate_folds,
    combine_seeds,
    format_differences,
    format_loro,
    paired_differences,
)


def _summary(model_micro: list[float], rules_micro: list[float]) -> dict:
    folds = {
        "model": {
            f"holdout-fold-{i}": {"test_micro_f1": v, "test_f1_UNIT": v - 0.1} for i, v in enumerate(model_micro)
        },
        "rules": {f"holdout-fold-{i}": {"test_micro_f1": v} for i, v in enumerate(rules_micro)},
    }
    return {"folds": folds, "summary": {name: aggregate_folds(f) for name, f in folds.items()}}


def test_one_sweep_mean_spread_and_range():
    row = _summary([0.8, 0.9], [0.7, 0.7])["summary"]["model"]["micro_f1"]
    assert row == pytest.approx({"mean": 0.85, "std": 0.05, "min": 0.8, "max": 0.9, "folds": 2})


def test_seeds_pool_every_run_and_keep_each_seeds_mean():
    pooled = combine_seeds({"s42": _summary([0.8, 0.9], [0.7, 0.7]), "s7": _summary([0.6, 0.7], [0.7, 0.7])})
    model = pooled["summary"]["model"]["micro_f1"]
    assert model["folds"] == 4 and model["mean"] == pytest.approx(0.75)
    assert (model["min"], model["max"]) == (0.6, 0.9)
    assert list(pooled["folds"]["model"]) == [
        "s42/holdout-fold-0",
        "s42/holdout-fold-1",
        "s7/holdout-fold-0",
        "s7/holdout-fold-1",
    ]
    assert pooled["seeds"]["model"]["s42"]["micro_f1"] == pytest.approx(0.85)
    assert pooled["seeds"]["model"]["s7"]["f1_UNIT"] == pytest.approx(0.55)
    assert pooled["seeds"]["rules"]["s7"]["micro_f1"] == pytest.approx(0.7)
    json.dumps(pooled)  # written as loro.json


def test_the_pooled_table_says_runs_and_seeds():
    pooled = combine_seeds({"s42": _summary([0.8, 0.9], [0.7, 0.7]), "s7": _summary([0.6, 0.7], [0.7, 0.7])})
    table = format_loro(pooled)
    assert table.startswith("Held-out regions, 4 runs (2 seeds x folds)")
    assert "| s42 | 0.850 | 0.700 |" in table and "| s7 | 0.650 | 0.700 |" in table
    assert "seed (mean over its folds)" not in format_loro(_summary([0.8], [0.7]))


def test_settings_are_paired_by_seed_position_and_fold():
    base = combine_seeds({"a42": _summary([0.80, 0.90], [0.7, 0.7]), "a7": _summary([0.70, 0.75], [0.7, 0.7])})
    cand = combine_seeds({"b42": _summary([0.82, 0.93], [0.7, 0.7]), "b7": _summary([0.71, 0.78], [0.7, 0.7])})
    micro = paired_differences(base, cand)["differences"]["micro_f1"]
    assert micro["mean"] == pytest.approx(0.0225) and micro["runs"] == 4 and (micro["up"], micro["down"]) == (4, 0)
    assert micro["beyond_spread"]  # +0.02, +0.03, +0.01, +0.03: the spread (0.008) is smaller than the gain
    swapped = combine_seeds({"b7": _summary([0.71, 0.78], [0.7, 0.7]), "b42": _summary([0.82, 0.93], [0.7, 0.7])})
    noisy = paired_differences(base, swapped)["differences"]["micro_f1"]  # seed 42 against seed 7: noise
    assert noisy["runs"] == 4 and not noisy["beyond_spread"]


def test_unpaired_runs_are_counted_and_no_pair_is_an_error():
    one = _summary([0.8, 0.9, 0.85], [0.7] * 3)
    comparison = paired_differences(one, _summary([0.81, 0.92], [0.7] * 2))
    assert comparison["pairs"] == 2 and comparison["unpaired"] == 1
    assert list(comparison["differences"]) == ["micro_f1", "f1_UNIT"]
    table = format_differences(comparison, one, one, ("4 epochs", "6 epochs"))
    assert "| micro_f1 | 0.850 ± 0.041 |" in table and "1 runs without a partner" in table
    with pytest.raises(ValueError, match="share no"):
        paired_differences(one, {"folds": {"model": {"holdout-fold-9": {}}}})


def test_an_ensemble_is_paired_with_every_seed_of_the_same_fold():
    base = combine_seeds({"a42": _summary([0.80, 0.90], [0.7, 0.7]), "a7": _summary([0.70, 0.75], [0.7, 0.7])})
    ensemble = _summary([0.85, 0.95], [0.7, 0.7])  # one run per fold
    comparison = paired_differences(base, ensemble, pairing="fold")
    micro = comparison["differences"]["micro_f1"]
    assert comparison["pairs"] == 4 and comparison["unpaired"] == 0
    assert micro["mean"] == pytest.approx((0.05 + 0.05 + 0.15 + 0.20) / 4) and micro["up"] == 4
    assert "4 paired runs (same fold) of `model`" in format_differences(
        comparison, base, ensemble, ("seeds", "ensemble")
    )
    assert paired_differences(base, ensemble)["pairs"] == 2  # by seed position: only the first seed
    with pytest.raises(ValueError, match="one run per fold"):
        paired_differences(ensemble, base, pairing="fold")
    with pytest.raises(ValueError, match="seed or fold"):
        paired_differences(base, ensemble, pairing="run")
