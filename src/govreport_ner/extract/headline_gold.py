"""A standoff gold of headline targets and its score (issue 11 item 6).

The gold is a TSV with one row per headline target (no report text is copied):
``doc, start, end, indicator_id, value, low, high, unit, comparator`` where ``start:end`` are
the document offsets of the number as written (``14.5万`` of 城镇新增就业14.5万人), the numbers
are in the unit's base (145000 人; ``value`` is empty for a range) and ``comparator`` is one of
``>= <= ~ =``. ``docs.tsv`` lists the documents of the sample (also those with no headline
target), so a prediction in a sampled document with no gold row is a false positive.

:func:`score` compares a gold with predictions (or a second pass) on the multiset of
``(doc, indicator_id, low, high, comparator)``: precision, recall, F1, and the differences.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

COLUMNS = ("doc", "start", "end", "indicator_id", "value", "low", "high", "unit", "comparator")


def _number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def read_gold(path: Path | str) -> list[dict]:
    """Rows of a headline-target gold TSV, numbers parsed; an error names the file and the line."""
    path = Path(path)
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: expected the columns {', '.join(COLUMNS)}, got {reader.fieldnames}")
        for line, row in enumerate(reader, 2):
            try:
                rows.append(
                    {
                        **row,
                        "start": int(row["start"]),
                        "end": int(row["end"]),
                        **{k: _number(row[k]) for k in ("value", "low", "high")},
                    }
                )
            except ValueError as err:
                raise ValueError(f"{path}:{line}: {err}") from err
    return rows


def read_docs(path: Path | str) -> list[str]:
    """The document ids of the sample (``docs.tsv``: ``doc``, ``file``)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [row["doc"] for row in csv.DictReader(handle, delimiter="\t")]


def predicted_rows(records: Iterable[dict], docs: set[str]) -> list[dict]:
    """The headline targets with an indicator id of ``predict.py`` records, as gold-like rows."""
    rows = []
    for record in records:
        if record["id"] not in docs:
            continue
        for t in record["targets"]:
            if t.get("headline") and t.get("indicator_id"):
                q = t["quantity_span"]
                rows.append(
                    {
                        "doc": record["id"],
                        "start": q["start"],
                        "end": q["end"],
                        "indicator_id": t["indicator_id"],
                        "value": t["value"],
                        "low": t["low"],
                        "high": t["high"],
                        "unit": t["unit"],
                        "comparator": t["comparator"],
                    }
                )
    return rows


def key(row: dict) -> tuple:
    """What must agree: document, indicator id, the numbers and the comparator."""
    low = row["low"] if row["low"] is not None else row["value"]
    high = row["high"] if row["high"] is not None else row["value"]
    return (row["doc"], row["indicator_id"], round(float(low), 6), round(float(high), 6), row["comparator"])


def score(gold: list[dict], predicted: list[dict]) -> dict:
    """Precision, recall and F1 of ``predicted`` against ``gold`` (multisets of :func:`key`), per id too."""
    g, p = Counter(map(key, gold)), Counter(map(key, predicted))
    tp = sum((g & p).values())

    def prf(tp: int, n_gold: int, n_pred: int) -> dict:
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "gold": n_gold, "predicted": n_pred, "correct": tp}

    per_id = {}
    for ident in sorted({k[1] for k in g} | {k[1] for k in p}):
        gi = Counter({k: v for k, v in g.items() if k[1] == ident})
        pi = Counter({k: v for k, v in p.items() if k[1] == ident})
        per_id[ident] = prf(sum((gi & pi).values()), sum(gi.values()), sum(pi.values()))
    return {
        "micro": prf(tp, sum(g.values()), sum(p.values())),
        "per_id": per_id,
        "missed": sorted((g - p).elements()),
        "spurious": sorted((p - g).elements()),
    }
