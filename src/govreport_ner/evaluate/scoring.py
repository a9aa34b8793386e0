"""Evaluation of a checkpoint (and of the rules) on gold clauses: per label, per region, reports and a chart."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from datasets import Dataset

from govreport_ner.data.dataset import example_spans
from govreport_ner.evaluate.metrics import confusion, entity_scores
from govreport_ner.extract import rules
from govreport_ner.spans import Span

Predictor = Callable[[Sequence[str]], list[list[Span]]]


def rule_predictor(texts: Sequence[str]) -> list[list[Span]]:
    """The rule pre-annotator applied clause by clause."""
    return [rules.tag_clause(text) for text in texts]


def hybrid_predictor(model_predict: Predictor, rule_labels: Sequence[str] = rules.RULE_LABELS_FOR_HYBRID) -> Predictor:
    """Model spans for the labels rules are poor at, rule spans for ``rule_labels``."""

    def predict(texts: Sequence[str]) -> list[list[Span]]:
        return [
            rules.merge_with_rules(t, spans, rule_labels) for t, spans in zip(texts, model_predict(texts), strict=True)
        ]

    return predict


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
    """Scores of every system (model, rules, ...) on the same clauses, with their predictions."""
    results = {}
    for name, predict in systems.items():
        predicted = predict(dataset["text"])
        results[name] = {"scores": score_predictions(dataset, predicted), "predictions": predicted}
    return results
