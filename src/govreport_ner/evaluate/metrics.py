"""Entity-level scores: strict (same span and label) and partial-overlap, per label, micro and macro.

Also used for inter-annotator agreement: pass A as "gold" and pass B as "predicted" gives
the pairwise F1 (symmetric for F1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from govreport_ner.labels import LABELS
from govreport_ner.spans import Span

Keyed = tuple[str, Span]  # (example or document id, span)


def _prf(tp: float, n_pred: int, n_gold: int) -> dict[str, float]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": n_gold, "predicted": n_pred}


def _flatten(groups: Iterable[tuple[str, Sequence[Span]]]) -> list[Keyed]:
    return [(key, Span(s.start, s.end, s.label)) for key, spans in groups for s in spans]


def _partial_matches(gold: list[Keyed], pred: list[Keyed], label: str) -> tuple[int, int]:
    """(#predicted with an overlapping same-label gold span, #gold with an overlapping same-label prediction)."""
    gold_l = [(k, s) for k, s in gold if s.label == label]
    pred_l = [(k, s) for k, s in pred if s.label == label]
    hit_pred = sum(any(k == kg and s.overlaps(g) for kg, g in gold_l) for k, s in pred_l)
    hit_gold = sum(any(k == kp and g.overlaps(p) for kp, p in pred_l) for k, g in gold_l)
    return hit_pred, hit_gold


def entity_scores(
    gold: Iterable[tuple[str, Sequence[Span]]],
    predicted: Iterable[tuple[str, Sequence[Span]]],
    labels: Sequence[str] = LABELS,
) -> dict:
    """Per-label, micro and macro precision/recall/F1, strict and partial.

    ``gold`` and ``predicted`` are ``(key, spans)`` pairs; spans of the same key are compared.
    Partial: a prediction counts if it overlaps a gold span of the same label (precision), a
    gold span counts if some same-label prediction overlaps it (recall).
    """
    gold_f, pred_f = _flatten(gold), _flatten(predicted)
    gold_set, pred_set = Counter(gold_f), Counter(pred_f)
    strict, partial = {}, {}
    for label in labels:
        g = sum(n for (k, s), n in gold_set.items() if s.label == label)
        p = sum(n for (k, s), n in pred_set.items() if s.label == label)
        tp = sum(min(n, gold_set[ks]) for ks, n in pred_set.items() if ks[1].label == label)
        strict[label] = _prf(tp, p, g)
        hit_pred, hit_gold = _partial_matches(gold_f, pred_f, label)
        part = _prf(0, p, g)
        part["precision"] = hit_pred / p if p else 0.0
        part["recall"] = hit_gold / g if g else 0.0
        pr = part["precision"] + part["recall"]
        part["f1"] = 2 * part["precision"] * part["recall"] / pr if pr else 0.0
        partial[label] = part
    return {"strict": _summarise(strict, labels), "partial": _summarise(partial, labels)}


def _summarise(per_label: dict[str, dict], labels: Sequence[str]) -> dict:
    """Add micro (pooled counts) and macro (mean over labels with support) averages."""
    support = sum(per_label[label]["support"] for label in labels)
    predicted = sum(per_label[label]["predicted"] for label in labels)
    micro_p = sum(per_label[label]["precision"] * per_label[label]["predicted"] for label in labels)
    micro_r = sum(per_label[label]["recall"] * per_label[label]["support"] for label in labels)
    micro = {
        "precision": micro_p / predicted if predicted else 0.0,
        "recall": micro_r / support if support else 0.0,
        "support": support,
        "predicted": predicted,
    }
    pr = micro["precision"] + micro["recall"]
    micro["f1"] = 2 * micro["precision"] * micro["recall"] / pr if pr else 0.0
    scored = [label for label in labels if per_label[label]["support"] or per_label[label]["predicted"]]
    macro = {
        key: sum(per_label[label][key] for label in scored) / len(scored) if scored else 0.0
        for key in ("precision", "recall", "f1")
    }
    return {"per_label": per_label, "micro": micro, "macro": macro}


def confusion(
    gold: Iterable[tuple[str, Sequence[Span]]],
    predicted: Iterable[tuple[str, Sequence[Span]]],
    labels: Sequence[str] = LABELS,
) -> dict[str, dict[str, int]]:
    """Gold label -> predicted label counts for overlapping spans; ``O`` for missed/spurious."""
    gold_f, pred_f = _flatten(gold), _flatten(predicted)
    table = {g: dict.fromkeys([*labels, "O"], 0) for g in [*labels, "O"]}
    for key, g in gold_f:
        hits = [p for k, p in pred_f if k == key and p.overlaps(g)]
        if not hits:
            table[g.label]["O"] += 1
        for p in hits:
            table[g.label][p.label] += 1
    for key, p in pred_f:
        if not any(k == key and g.overlaps(p) for k, g in gold_f):
            table["O"][p.label] += 1
    return table


def seqeval_scores(gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> dict[str, float]:
    """seqeval's entity-level precision/recall/F1 over character BIO sequences (strict IOB2)."""
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    kwargs = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    return {
        "precision": precision_score(gold_tags, pred_tags, **kwargs),
        "recall": recall_score(gold_tags, pred_tags, **kwargs),
        "f1": f1_score(gold_tags, pred_tags, **kwargs),
    }
