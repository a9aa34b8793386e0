"""Label Studio annotations -> ``datasets.DatasetDict`` of clauses with character BIO tags."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from datasets import ClassLabel, Dataset, DatasetDict, Features, Value, concatenate_datasets
from datasets import Sequence as HFSequence

from govreport_ner.annotation.labelstudio_format import AnnotatedTask
from govreport_ner.labels import BIO_TAGS, LABELS
from govreport_ner.spans import Span, spans_to_bio
from govreport_ner.text.segment import DEFAULT_MAX_CHARS, segment

SPAN_FEATURE = {"start": Value("int32"), "end": Value("int32"), "label": Value("string"), "text": Value("string")}
FEATURES = Features(
    {
        "id": Value("string"),
        "doc_id": Value("string"),
        "region": Value("string"),
        "province": Value("string"),
        "start": Value("int32"),
        "end": Value("int32"),
        "text": Value("string"),
        "chars": HFSequence(Value("string")),
        "ner_tags": HFSequence(ClassLabel(names=list(BIO_TAGS))),
        "spans": [SPAN_FEATURE],
    }
)


def task_clause_examples(task: AnnotatedTask, max_chars: int | None = DEFAULT_MAX_CHARS) -> list[dict]:
    """One example per clause of a task; ``start``/``end`` are document offsets, spans clause-local."""
    examples = []
    spans = sorted(task.spans)
    for clause in segment(task.text, max_chars, keep_together=[(s.start, s.end) for s in spans]):
        inside = [s.shifted(-clause.start) for s in spans if clause.start <= s.start and s.end <= clause.end]
        start = task.offset + clause.start
        examples.append(
            {
                "id": f"{task.doc_id}:{start}",
                "doc_id": task.doc_id,
                "region": task.region,
                "province": task.province,
                "start": start,
                "end": task.offset + clause.end,
                "text": clause.text,
                "chars": list(clause.text),
                "ner_tags": spans_to_bio(len(clause.text), inside),
                "spans": [{"start": s.start, "end": s.end, "label": s.label, "text": s.text} for s in inside],
            }
        )
    covered = sum(len(e["spans"]) for e in examples)
    if covered != len(spans):
        raise ValueError(f"task {task.task_id}: {len(spans) - covered} spans cross clause boundaries")
    return examples


def build_dataset(tasks: Iterable[AnnotatedTask], max_chars: int | None = DEFAULT_MAX_CHARS) -> Dataset:
    """All clauses of all tasks as one :class:`datasets.Dataset`."""
    rows = [example for task in tasks for example in task_clause_examples(task, max_chars)]
    return Dataset.from_list(rows, features=FEATURES)


def split_by_region(dataset: Dataset, holdout: Sequence[str] | str | None) -> DatasetDict:
    """``train`` = every region not held out; ``test`` = the held-out regions (if any)."""
    if holdout is None or holdout == []:
        return DatasetDict({"train": dataset})
    held = {holdout} if isinstance(holdout, str) else set(holdout)
    unknown = held - set(dataset["region"])
    if unknown:
        raise ValueError(f"unknown held-out region(s) {sorted(unknown)}; known: {sorted(set(dataset['region']))}")
    return DatasetDict(
        {
            "train": dataset.filter(lambda r: r not in held, input_columns="region"),
            "test": dataset.filter(lambda r: r in held, input_columns="region"),
        }
    )


def subsample_regions(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """The clauses of a seeded share of the regions (whole excerpts, as gold is annotated), for a
    learning curve. One seed's shares are nested: its 0.25 lies inside its 0.5."""
    if not 0 < fraction <= 1:
        raise ValueError(f"the share of training regions must be in (0, 1], got {fraction}")
    if fraction == 1:
        return dataset
    regions = sorted(set(dataset["region"]))
    order = random.Random(seed).sample(regions, len(regions))
    kept = set(order[: max(1, round(fraction * len(regions)))])
    return dataset.filter(lambda r: r in kept, input_columns="region")


def oversample_labels(dataset: Dataset, factors: Mapping[str, int]) -> Dataset:
    """The training clauses with every clause holding a span of a rare label repeated.

    ``factors`` maps a label to how many times in all such a clause appears (``{DEADLINE: 4}``:
    three extra copies); a clause takes the largest factor of its labels. Copies follow the
    originals, so the order stays deterministic; the Trainer shuffles them.
    """
    unknown = set(factors) - set(LABELS)
    if unknown:
        raise ValueError(f"cannot oversample unknown label(s) {sorted(unknown)}; labels: {list(LABELS)}")
    bad = {label: n for label, n in factors.items() if int(n) != n or n < 1}
    if bad:
        raise ValueError(f"oversampling factors must be whole numbers >= 1, got {bad}")
    if not factors or len(dataset) == 0:
        return dataset
    copies = [max((int(factors.get(s["label"], 1)) for s in spans), default=1) for spans in dataset["spans"]]
    extra = [i for i, n in enumerate(copies) for _ in range(n - 1)]
    return concatenate_datasets([dataset, dataset.select(extra)]) if extra else dataset


def leave_one_region_out(dataset: Dataset) -> dict[str, DatasetDict]:
    """One train/test split per region, that region held out."""
    return {region: split_by_region(dataset, region) for region in sorted(set(dataset["region"]))}


def province_folds(region_provinces: Mapping[str, str], k: int) -> list[list[str]]:
    """``k`` test folds of regions, grouped by province (a province's regions share one fold).

    Deterministic: provinces by number of regions (most first, then by name), each into the
    fold with the fewest regions so far (the lowest index on ties). Every region is in
    exactly one fold.
    """
    if k < 2:
        raise ValueError(f"data.folds must be at least 2, got {k}")
    by_province: dict[str, list[str]] = defaultdict(list)
    for region, province in region_provinces.items():
        if not province:
            raise ValueError(f"region {region!r} has no province: cannot group it into a fold")
        by_province[province].append(region)
    if len(by_province) < k:
        raise ValueError(f"{k} folds need at least {k} provinces, the gold has {len(by_province)}")
    folds: list[list[str]] = [[] for _ in range(k)]
    for _, regions in sorted(by_province.items(), key=lambda item: (-len(item[1]), item[0])):
        smallest = min(range(k), key=lambda i: (len(folds[i]), i))
        folds[smallest] += sorted(regions)
    return [sorted(fold) for fold in folds]


def example_spans(example: dict, document_offsets: bool = False) -> list[Span]:
    """The spans of one example, clause-local or in document offsets."""
    shift = example["start"] if document_offsets else 0
    return [Span(s["start"] + shift, s["end"] + shift, s["label"], s["text"]) for s in example["spans"]]


def dataset_to_tasks(dataset: Dataset) -> list[AnnotatedTask]:
    """One annotated task per clause (offset = clause start), for export back to Label Studio."""
    return [
        AnnotatedTask(
            task_id=example["id"],
            doc_id=example["doc_id"],
            region=example["region"],
            province=example.get("province", ""),
            text=example["text"],
            offset=example["start"],
            spans=tuple(example_spans(example)),
        )
        for example in dataset
    ]


def statistics(dataset: Dataset) -> dict:
    """Clauses, characters and entities per label, per region and in total."""
    per_region: dict[str, dict] = defaultdict(lambda: {"clauses": 0, "characters": 0, **{label: 0 for label in LABELS}})
    for example in dataset:
        row = per_region[example["region"]]
        row["clauses"] += 1
        row["characters"] += len(example["text"])
        for label, n in Counter(s["label"] for s in example["spans"]).items():
            row[label] += n
    total = Counter()
    for row in per_region.values():
        total.update(row)
    return {
        "regions": dict(sorted(per_region.items())),
        "total": {k: total[k] for k in ("clauses", "characters", *LABELS)},
    }


def format_statistics(stats: dict) -> str:
    """Statistics as a Markdown table."""
    header = ["region", "clauses", "characters", *LABELS, "entities"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in [*stats["regions"].items(), ("**total**", stats["total"])]:
        entities = sum(row[label] for label in LABELS)
        lines.append("| " + " | ".join([name, *(str(row[k]) for k in header[1:-1]), str(entities)]) + " |")
    return "\n".join(lines)
