"""The corpus gold's numbers: pass agreement, the review's changes, counts, rule baseline.

Inputs are standoff records only (``annotations/corpus/``): the final gold, and the passes
under ``passes/<name>/``; texts are rebuilt from the corpus folder.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from govreport_ner.annotation.corpus_gold import (
    excerpt_text,
    read_standoff,
    record_to_task,
    standoff_files,
)
from govreport_ner.annotation.labelstudio_format import AnnotatedTask
from govreport_ner.evaluate.metrics import entity_scores
from govreport_ner.extract import rules
from govreport_ner.labels import LABELS


def load_pass(
    pass_dir: Path | str, corpus_dir: Path | str, texts: dict[str, str] | None = None
) -> dict[str, AnnotatedTask]:
    """The standoff records of one pass, by doc id (empty when the folder does not exist).

    ``texts`` (sha256 -> excerpt text) is filled and reused, so that passes over the same
    excerpts read each corpus file once; the sha256 is what the text was checked against.
    """
    texts = {} if texts is None else texts
    tasks = {}
    for path in standoff_files(pass_dir) if Path(pass_dir).is_dir() else []:
        record = read_standoff(path)
        if record["sha256"] not in texts:
            texts[record["sha256"]] = excerpt_text(record, corpus_dir)
        tasks[record["doc_id"]] = record_to_task(record, texts[record["sha256"]])
    return tasks


def scores_on(first: dict[str, AnnotatedTask], second: dict[str, AnnotatedTask], docs: Sequence[str]) -> dict:
    """Entity scores of ``second`` read against ``first`` on the given documents."""
    return entity_scores([(d, first[d].spans) for d in docs], [(d, second[d].spans) for d in docs])


def review_changes(before: dict[str, AnnotatedTask], after: dict[str, AnnotatedTask], docs: Sequence[str]) -> dict:
    """What a review did to a pass: spans kept, removed, added, relabelled (same offsets), per label."""
    changes = {label: Counter() for label in LABELS}
    for doc in docs:
        old, new = set(before[doc].spans), set(after[doc].spans)
        old_at = {(s.start, s.end): s.label for s in old}
        new_at = {(s.start, s.end): s.label for s in new}
        for s in old & new:
            changes[s.label]["kept"] += 1
        for s in old - new:
            key = "relabelled" if (s.start, s.end) in new_at else "removed"
            changes[s.label][key] += 1
        for s in new - old:
            if (s.start, s.end) not in old_at:
                changes[s.label]["added"] += 1
    return {label: {k: c[k] for k in ("kept", "removed", "relabelled", "added")} for label, c in changes.items()}


def count_table(tasks: Sequence[AnnotatedTask], key) -> dict[str, dict[str, int]]:
    """Entities per label, grouped by ``key(task)``."""
    table: dict[str, Counter] = defaultdict(Counter)
    for task in tasks:
        table[key(task)]["excerpts"] += 1
        table[key(task)]["characters"] += len(task.text)
        table[key(task)].update(s.label for s in task.spans)
    return {group: {k: c[k] for k in ("excerpts", "characters", *LABELS)} for group, c in sorted(table.items())}


def corpus_numbers(
    gold_dir: Path | str,
    corpus_dir: Path | str,
    passes: Sequence[str],
    review: str,
    adjudicated: str = "adjudicated",
    reannotation: str | None = None,
) -> dict:
    """Agreement of the two passes on the double-annotated excerpts, each pass against the adjudicated
    gold, what the review changed in the first pass, what applying the rulings changed afterwards,
    a fresh pass over final-gold excerpts against that gold (``reannotation``), counts per
    label/province/kind, and the rule baseline on the final gold."""
    texts: dict[str, str] = {}
    gold = load_pass(gold_dir, corpus_dir, texts)
    pass_dir = Path(gold_dir) / "passes"
    loaded = {name: load_pass(pass_dir / name, corpus_dir, texts) for name in (*passes, review, adjudicated)}
    first, second = (loaded[name] for name in passes)
    double = sorted(set(first) & set(second) & set(gold))
    reviewed = sorted(set(first) & set(loaded[review]) & set(gold) - set(double))
    before_rulings = {**loaded[review], **loaded[adjudicated]}
    swept = sorted(set(before_rulings) & set(gold))
    kinds = {record["doc_id"]: record["kind"] for record in map(read_standoff, standoff_files(gold_dir))}
    tasks = list(gold.values())
    fresh = load_pass(pass_dir / reannotation, corpus_dir, texts) if reannotation else {}
    fresh_docs = sorted(set(fresh) & set(gold))
    return {
        "excerpts": len(gold),
        "double_annotated": double,
        "agreement": scores_on(first, second, double) if double else None,
        "passes_vs_gold": {name: scores_on(loaded[adjudicated], loaded[name], double) for name in passes}
        if double and set(double) <= set(loaded[adjudicated])
        else {},
        "reviewed": len(reviewed),
        "first_pass_vs_review": scores_on(loaded[review], first, reviewed) if reviewed else None,
        "review_changes": review_changes(first, loaded[review], reviewed) if reviewed else None,
        "rulings_changes": review_changes(before_rulings, gold, swept) if swept else None,
        "rulings_excerpts": len(swept),
        "reannotated": fresh_docs,
        "reannotation_vs_gold": scores_on(gold, fresh, fresh_docs) if fresh_docs else None,
        "per_label": {label: sum(s.label == label for t in tasks for s in t.spans) for label in LABELS},
        "per_province": count_table(tasks, lambda t: t.province),
        "per_kind": count_table(tasks, lambda t: kinds[t.doc_id]),
        "rules_vs_gold": entity_scores(
            [(t.doc_id, t.spans) for t in tasks], [(t.doc_id, rules.tag_text(t.text)) for t in tasks]
        ),
    }


def format_counts(table: dict[str, dict[str, int]], name: str) -> str:
    """A count table as Markdown."""
    header = [name, "excerpts", "characters", *LABELS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([group, *(str(row[k]) for k in header[1:])]) + " |" for group, row in table.items()]
    return "\n".join(lines)


def format_review_changes(changes: dict) -> str:
    """The review's changes per label as Markdown."""
    lines = ["| label | kept | removed | relabelled | added |", "|---|---|---|---|---|"]
    lines += [
        f"| {label} | {c['kept']} | {c['removed']} | {c['relabelled']} | {c['added']} |" for label, c in changes.items()
    ]
    return "\n".join(lines)


def corpus_section(numbers: dict, passes: Sequence[str], review: str, score_table) -> str:
    """The corpus gold's measured section (Markdown); ``score_table`` renders one score dict."""
    a, b = passes
    per_label = numbers["per_label"]
    parts = [
        f"### Corpus gold: {numbers['excerpts']} excerpts, {sum(per_label.values())} entities",
        "",
        " · ".join(f"{label} {n}" for label, n in per_label.items()),
        "",
    ]
    if numbers["agreement"]:
        parts += [
            f"#### Agreement between the independent passes on the {len(numbers['double_annotated'])} "
            f"double-annotated excerpts ({a} vs {b})",
            "",
            score_table(numbers["agreement"], f"{a} vs {b}"),
            "",
            *[score_table(s, f"{name} vs adjudication") + "\n" for name, s in numbers["passes_vs_gold"].items()],
        ]
    if numbers["review_changes"]:
        parts += [
            f"#### The review pass on the {numbers['reviewed']} single-pass excerpts",
            "",
            f"Every span of {a} checked against the text and the guidelines by a second annotator ({review}), "
            "who also added what was missing. What the review changed:",
            "",
            format_review_changes(numbers["review_changes"]),
            "",
            score_table(numbers["first_pass_vs_review"], f"{a} vs its review"),
            "",
        ]
    if numbers.get("rulings_changes"):
        parts += [
            f"#### Applying the corpus rulings (GUIDELINES section 9) to {numbers['rulings_excerpts']} excerpts",
            "",
            "After adjudication and review, every hard case was decided once and the decision applied to every "
            "excerpt (and the seeds). What that changed, against the adjudicated or reviewed files:",
            "",
            format_review_changes(numbers["rulings_changes"]),
            "",
        ]
    if numbers.get("reannotation_vs_gold"):
        parts += [
            f"#### A fresh pass over {len(numbers['reannotated'])} excerpts of the final gold",
            "",
            "Made after the rulings, by annotators who had not worked on these excerpts: how closely one new "
            "annotator reproduces the final gold (a reference point for the model's scores).",
            "",
            score_table(numbers["reannotation_vs_gold"], "fresh pass vs final gold"),
            "",
        ]
    parts += [
        "#### Entities per kind of passage",
        "",
        format_counts(numbers["per_kind"], "kind"),
        "",
        "#### Entities per province",
        "",
        format_counts(numbers["per_province"], "province"),
        "",
        f"#### Rule pre-annotator ({rules.MODEL_VERSION}) against the corpus gold",
        "",
        score_table(numbers["rules_vs_gold"], "rules vs corpus gold"),
    ]
    return "\n".join(parts)
