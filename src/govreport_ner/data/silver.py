"""Silver data: corpus clauses that a trained model and the rules label alike, kept as standoff.

Silver is never gold. It is what a fine-tuned model (checked against the rules) says about
corpus text that no one annotated, filtered for precision, for pre-training before the gold
(``silver.mode=pretrain``) or beside it (``silver.mode=mix``, one round of self-training).
A clause is kept whole or dropped whole (:func:`silver_clause`), so that what silver leaves
unlabelled is what both taggers leave unlabelled:

- the model's and the rules' spans of the checked labels (QUANTITY, UNIT, DEADLINE) are the same;
- every name the model found (PROJECT, PROGRAM) is trusted: long enough, scored high enough by the
  model, and (if the policy lists head nouns) quoted or ending in one (行动, 改革, 工程, 项目, ...).

A silver file is one corpus document: its source, the sha256 of its text, its region and
province, the kept clauses (document offsets) and their spans, and the *labeller*: the model
version and the regions that model was held out from. Folds stay honest by construction: a
run that holds out regions takes silver only from a labeller held out from the same regions
(:func:`check_labeller`), and never a document of a held-out province.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from govreport_ner.annotation.corpus_gold import read_json_record
from govreport_ner.annotation.excerpts import sha256_text
from govreport_ner.annotation.labelstudio_format import AnnotatedTask
from govreport_ner.data.gold import GoldSettings
from govreport_ner.labels import LABELS
from govreport_ner.spans import Span
from govreport_ner.text.reader import read_report

FORMAT = "govreport-ner/silver-v1"
OPENING_QUOTES = "“《「『\"'"
CLOSING_QUOTES = "”》」』\"'"


class SilverError(ValueError):
    """Silver that cannot be used as asked: malformed, changed corpus text, or made for other held-out regions."""


@dataclass(frozen=True)
class SilverPolicy:
    """Which clauses become silver (the ``policy`` keys of ``configs/silver.yaml``)."""

    agree_labels: tuple[str, ...]  # the model and the rules must give the same spans of these
    name_labels: tuple[str, ...]  # every model span of these must be a trusted name
    name_heads: tuple[str, ...]  # a trusted name ends in one of these (closing quotes aside) ... (empty: any ending)
    quoted_names: bool  # ... or is quoted (“放管服”改革 counts: it opens with a quote)
    min_name_chars: int  # a trusted name is at least this long
    min_name_score: float | None  # and has at least this score (the model's mean tag probability); None: any
    keep_empty: bool  # keep clauses in which neither tagger finds anything

    def __post_init__(self):  # lists from a config become tuples (str.endswith takes a tuple)
        for key, value in vars(self).items():
            if isinstance(value, list):
                object.__setattr__(self, key, tuple(value))

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}


@dataclass(frozen=True)
class Labeller:
    """Who made a silver file: the model version, and the regions its training held out (None: unknown)."""

    model_version: str
    held_out_regions: tuple[str, ...] | None

    def to_dict(self) -> dict:
        regions = None if self.held_out_regions is None else sorted(self.held_out_regions)
        return {"model_version": self.model_version, "held_out_regions": regions}


def trusted_name(text: str, span: Span, policy: SilverPolicy) -> bool:
    """Whether a model name span is precise enough for silver (length, score, quotes or head noun)."""
    name = text[span.start : span.end]
    if len(name) < policy.min_name_chars:
        return False
    if policy.min_name_score is not None and (span.score is None or span.score < policy.min_name_score):
        return False
    if not policy.name_heads:
        return True
    quoted = name[0] in OPENING_QUOTES or (span.start > 0 and text[span.start - 1] in OPENING_QUOTES)
    return (policy.quoted_names and quoted) or name.rstrip(CLOSING_QUOTES).endswith(policy.name_heads)


def _checked(spans: Iterable[Span], labels: Sequence[str]) -> set[tuple[int, int, str]]:
    return {(s.start, s.end, s.label) for s in spans if s.label in labels}


def silver_clause(
    text: str, model_spans: Sequence[Span], rule_spans: Sequence[Span], policy: SilverPolicy
) -> list[Span] | None:
    """The model's spans of a clause when the clause passes the policy, else None (the clause is dropped)."""
    if not model_spans and not rule_spans and not policy.keep_empty:
        return None
    if _checked(model_spans, policy.agree_labels) != _checked(rule_spans, policy.agree_labels):
        return None
    names = [s for s in model_spans if s.label in policy.name_labels]
    if not all(trusted_name(text, s, policy) for s in names):
        return None
    return sorted(model_spans)


def silver_record(
    source: str,
    text: str,
    region: str,
    province: str,
    year: int,
    clauses: Sequence[tuple[int, int, Sequence[Span]]],
    labeller: Labeller,
    policy: SilverPolicy,
) -> dict:
    """The JSON-ready silver record of one document: kept clauses (document offsets) with clause-local spans."""
    return {
        "format": FORMAT,
        "source": source,
        "sha256": sha256_text(text),
        "region": region,
        "province": province,
        "year": year,
        "labeller": labeller.to_dict(),
        "policy": policy.to_dict(),
        "clauses": [
            {"start": start, "end": end, "spans": [[s.start, s.end, s.label] for s in spans]}
            for start, end, spans in clauses
        ],
    }


def write_silver(path: Path | str, record: dict) -> Path:
    """Write one silver record (one clause a line, for readable diffs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = json.dumps({k: v for k, v in record.items() if k != "clauses"}, ensure_ascii=False)[:-1]
    clauses = ",\n".join(json.dumps(c, ensure_ascii=False) for c in record["clauses"])
    path.write_text(f'{head}, "clauses": [\n{clauses}\n]}}\n', encoding="utf-8")
    return path


SUMMARY_FILE = "summary.json"  # what scripts/silver.py writes beside the records: not a record


def silver_files(silver_dir: Path | str) -> list[Path]:
    """The silver records of a folder (``*.json`` but the summary, sorted)."""
    folder = Path(silver_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"silver folder {folder} not found (make one with scripts/silver.py)")
    return sorted(p for p in folder.glob("*.json") if p.is_file() and p.name != SUMMARY_FILE)


def read_silver(path: Path | str) -> dict:
    """One silver record, its format and spans checked."""
    path = Path(path)
    record = read_json_record(path, SilverError)
    if record.get("format") != FORMAT:
        raise SilverError(f"{path}: not a silver record (format {record.get('format')!r}, expected {FORMAT})")
    for clause in record["clauses"]:
        length = clause["end"] - clause["start"]
        for start, end, label in clause["spans"]:
            if label not in LABELS or not 0 <= start < end <= length:
                raise SilverError(f"{path}: bad span {start}-{end} {label} in clause at {clause['start']}")
    return record


def check_labeller(record: dict, held_out_regions: Sequence[str] | None, path: Path | str) -> None:
    """Refuse silver whose labelling model trained on a region this run holds out."""
    if not held_out_regions:
        return
    labeller_held_out = record["labeller"]["held_out_regions"]
    if labeller_held_out is None:
        raise SilverError(
            f"{path}: the labelling model's held-out regions are unknown, so this silver may carry what the model "
            "learnt from the held-out gold; label with a train.py output_dir of the same holdout"
        )
    missing = sorted(set(held_out_regions) - set(labeller_held_out))
    if missing:
        raise SilverError(
            f"{path}: the labelling model ({record['labeller']['model_version']}) trained on held-out region(s) "
            f"{missing}; make silver for this holdout with that fold's checkpoint"
        )


def load_silver_dataset(silver_dir: Path | str, gold: GoldSettings):
    """The silver clauses a training run of ``gold`` may use, as a Dataset like the gold's."""
    from govreport_ner.data.dataset import build_dataset
    from govreport_ner.data.gold import region_provinces, resolve_holdout

    held_out = resolve_holdout(gold) or []
    provinces = region_provinces(gold.seed_dir, gold.corpus_gold)
    held_out_provinces = sorted({provinces[r] for r in held_out if r in provinces})
    if gold.corpus_dir is None:
        raise ValueError("silver needs the corpus it was made on: set data.corpus_dir=DIR")
    tasks = load_silver_tasks(silver_dir, gold.corpus_dir, held_out, held_out_provinces)
    if not tasks:
        raise ValueError(f"{silver_dir}: no silver clause outside the held-out provinces {held_out_provinces}")
    return build_dataset(tasks, gold.max_chars)


def load_silver_tasks(
    silver_dir: Path | str,
    corpus_dir: Path | str,
    held_out_regions: Sequence[str] | None = None,
    held_out_provinces: Sequence[str] = (),
) -> list[AnnotatedTask]:
    """The silver clauses of a folder as annotated tasks (one per clause), checked against the corpus.

    Documents of ``held_out_provinces`` are left out; silver of a labeller that trained on a
    ``held_out_regions`` region is refused (:func:`check_labeller`).
    """
    files = silver_files(silver_dir)
    if not files:
        raise FileNotFoundError(f"no silver records (*.json) in {silver_dir}")
    tasks = []
    for path in files:
        record = read_silver(path)
        check_labeller(record, held_out_regions, path)
        if record["province"] in held_out_provinces:
            continue
        text = read_report(Path(corpus_dir) / record["source"]).text
        if sha256_text(text) != record["sha256"]:
            raise SilverError(f"{path}: {record['source']} is not the text this silver was made on (sha256 differs)")
        for clause in record["clauses"]:
            start, clause_text = clause["start"], text[clause["start"] : clause["end"]]
            tasks.append(
                AnnotatedTask(
                    task_id=f"{path.stem}@{start}",
                    doc_id=path.stem,
                    region=record["region"],
                    text=clause_text,
                    offset=start,
                    spans=tuple(Span(s, e, label, clause_text[s:e]) for s, e, label in clause["spans"]),
                    province=record["province"],
                )
            )
    return tasks
