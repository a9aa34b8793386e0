"""Scoring any :class:`~govreport_ner.predict.predictors.Predictor` on gold clauses: per label, per region, confusion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from datasets import Dataset

from govreport_ner.data.dataset import example_spans
from govreport_ner.evaluate.metrics import confusion, entity_scores
from govreport_ner.predict.protocol import Predictor, RulePredictor
from govreport_ner.spans import Span


def systems_against_rules(predictor: Predictor, hybrid_labels: Sequence[str]) -> dict[str, Predictor]:
    """What an evaluation compares: the model alone, its hybrid with the rules (``hybrid_labels``), the rules.

    A rule predictor is compared with nothing but itself; a predictor configured as a hybrid
    (``rule_labels``) is scored as the model alone under "model".
    """
    if isinstance(predictor, RulePredictor):
        return {"rules": predictor}
    return {
        "model": predictor.with_rule_labels(()),
        "model+rules": predictor.with_rule_labels(hybrid_labels),
        "rules": RulePredictor(predictor.max_chars),
    }


def score_predictions(dataset: Dataset, predicted: Sequence[Sequence[Span]]) -> dict:
    """Overall and per-region strict/partial scores plus the confusion table."""
    gold = [example_spans(e) for e in dataset]
    keys = dataset["id"]
    overall = entity_scores(zip(keys, gold, strict=True), zip(keys, predicted, strict=True))
    overall["confusion"] = confusion(zip(keys, gold, strict=True), zip(keys, predicted, strict=True))
    by_region: dict[str, list[int]] = defaultdict(list)
    for i, region in enumerate(dataset["region"]):
        by_region[region].append(i)
    overall["regions"] = {
        region: entity_scores([(keys[i], gold[i]) for i in idx], [(keys[i], predicted[i]) for i in idx])
        for region, idx in sorted(by_region.items())
    }
    return overall


def evaluate_systems(dataset: Dataset, systems: dict[str, Predictor]) -> dict:
    """Scores of every predictor (model, rules, ONNX, hybrid...) on the same clauses, with their predictions."""
    results = {}
    for name, predictor in systems.items():
        predicted = predictor.predict_clauses(dataset["text"])
        results[name] = {"scores": score_predictions(dataset, predicted), "predictions": predicted}
    return results
