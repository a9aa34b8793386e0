"""Standoff gold over corpus excerpts: offsets and a sha256, never the corpus text.

Corpus texts stay outside the repository. Each annotated excerpt is one JSON file
(``annotations/corpus/<doc_id>.json``) naming its source file (relative to the corpus
folder), the excerpt's ``start``/``end`` in that file's decoded text, the sha256 of the
excerpt text, its region, province, year and kind of passage, and the spans
(``start``, ``end``, ``label``) relative to the excerpt. The loader rebuilds each excerpt
from the corpus, checks the sha256 and yields the same :class:`AnnotatedTask` as a Label
Studio export, so the dataset builder and every report treat seed and corpus gold alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from govreport_ner.annotation.agreement import parse_markup
from govreport_ner.annotation.excerpts import Excerpt, sha256_text
from govreport_ner.annotation.labelstudio_format import AnnotatedTask
from govreport_ner.labels import LABELS
from govreport_ner.spans import Span, find_overlaps
from govreport_ner.text.reader import read_report

FORMAT = "govreport-ner/standoff-v1"
RECORD_KEYS = ("doc_id", "source", "start", "end", "sha256", "region", "province", "year", "kind")


class CorpusMismatchError(ValueError):
    """The corpus text of an excerpt is not the text the gold was made on."""


class StandoffError(ValueError):
    """A standoff file that is malformed (the message names the file)."""


def standoff_record(excerpt: Excerpt, spans: Iterable[Span], provenance: str = "") -> dict:
    """The JSON-ready standoff record of an excerpt and its spans (excerpt-relative offsets)."""
    return {
        "format": FORMAT,
        **{key: getattr(excerpt, key) for key in RECORD_KEYS},
        "provenance": provenance,
        "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in sorted(spans)],
    }


def write_standoff(path: Path | str, record: dict) -> Path:
    """Write one standoff record (UTF-8, one span per line for readable diffs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {k: v for k, v in record.items() if k != "spans"}
    lines = [json.dumps(s, ensure_ascii=False) for s in record["spans"]]
    body = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    spans = ",\n  ".join(lines)
    path.write_text(f'{body},\n "spans": [\n  {spans}\n ]\n}}\n' if lines else f'{body},\n "spans": []\n}}\n', "utf-8")
    return path


def read_json_record(path: Path, error: type[ValueError] | None = None) -> dict:
    """A JSON file's object; invalid JSON raises ``error`` (default :class:`StandoffError`) naming file and place."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise (error or StandoffError)(
            f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from err


def read_standoff(path: Path | str) -> dict:
    """One standoff record, with its keys and spans checked."""
    path = Path(path)
    record = read_json_record(path)
    missing = [k for k in (*RECORD_KEYS, "spans") if k not in record]
    if missing:
        raise StandoffError(f"{path}: missing keys {missing}")
    length = record["end"] - record["start"]
    for i, s in enumerate(record["spans"]):
        if s.get("label") not in LABELS:
            raise StandoffError(f"{path}: span {i} has unknown label {s.get('label')!r}")
        if not (0 <= s["start"] < s["end"] <= length):
            raise StandoffError(f"{path}: span {i} ({s['start']}-{s['end']}) lies outside the excerpt (0-{length})")
    return record


def standoff_files(gold_dir: Path | str) -> list[Path]:
    """The standoff records of a folder (``*.json``, sorted; not recursive)."""
    return sorted(p for p in Path(gold_dir).glob("*.json") if p.is_file())


def excerpt_text(record: dict, corpus_dir: Path | str) -> str:
    """Rebuild an excerpt's text from the corpus and check its sha256."""
    source = Path(corpus_dir) / record["source"]
    if not source.is_file():
        raise CorpusMismatchError(
            f"{source}: corpus file of excerpt {record['doc_id']} not found "
            f"(is data.corpus_dir={corpus_dir} the corpus the gold was made on?)"
        )
    text = read_report(source).text[record["start"] : record["end"]]
    if sha256_text(text) != record["sha256"]:
        raise CorpusMismatchError(
            f"{source}: characters {record['start']}-{record['end']} are not the text excerpt "
            f"{record['doc_id']} was annotated on (sha256 differs); the corpus file has changed"
        )
    return text


def record_to_task(record: dict, text: str) -> AnnotatedTask:
    """An annotated task (offset = the excerpt's start in its source file)."""
    spans = tuple(sorted(Span(s["start"], s["end"], s["label"], text[s["start"] : s["end"]]) for s in record["spans"]))
    overlaps = find_overlaps(spans)
    if overlaps:
        a, b = overlaps[0]
        raise StandoffError(f"{record['doc_id']}: overlapping spans {a.start}-{a.end} and {b.start}-{b.end}")
    return AnnotatedTask(
        task_id=record["doc_id"],
        doc_id=record["doc_id"],
        region=record["region"],
        text=text,
        offset=record["start"],
        spans=spans,
        province=record["province"],
    )


def load_corpus_gold(gold_dir: Path | str, corpus_dir: Path | str) -> list[AnnotatedTask]:
    """Every standoff record of ``gold_dir`` rebuilt over ``corpus_dir``, as annotated tasks."""
    files = standoff_files(gold_dir)
    if not files:
        raise FileNotFoundError(f"no standoff gold (*.json) in {gold_dir}")
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(
            f"corpus folder {corpus_dir} not found: the corpus gold is standoff and needs the corpus texts "
            "(set data.corpus_dir=DIR, or use data=seeds data.extra_train_gold=null)"
        )
    tasks = []
    for path in files:
        record = read_standoff(path)
        tasks.append(record_to_task(record, excerpt_text(record, corpus_dir)))
    return tasks


def task_record(task: AnnotatedTask, excerpt: Excerpt, provenance: str = "") -> dict:
    """The standoff record of an annotated excerpt task (checks that it is that excerpt)."""
    if task.offset != excerpt.start or sha256_text(task.text) != excerpt.sha256:
        raise CorpusMismatchError(f"task {task.task_id}: its text is not excerpt {excerpt.doc_id} of {excerpt.source}")
    return standoff_record(excerpt, task.spans, provenance)


def excerpt_task_data(excerpt: Excerpt, text: str) -> dict:
    """Label Studio task data for an excerpt: the text plus what standoff needs to come back."""
    return {
        "text": text,
        "doc_id": excerpt.doc_id,
        "region": excerpt.region,
        "province": excerpt.province,
        "offset": excerpt.start,
        "source": excerpt.source,
        "sha256": excerpt.sha256,
        "kind": excerpt.kind,
        "year": excerpt.year,
    }


def excerpt_from_data(data: dict) -> Excerpt | None:
    """The excerpt a Label Studio task was made from, or None for a task that is no excerpt."""
    if not {"source", "sha256", "offset"} <= data.keys():
        return None
    return Excerpt(
        doc_id=str(data["doc_id"]),
        source=str(data["source"]),
        start=int(data["offset"]),
        end=int(data["offset"]) + len(data["text"]),
        sha256=str(data["sha256"]),
        region=str(data.get("region", "")),
        province=str(data.get("province", "")),
        year=int(data.get("year", 0) or 0),
        kind=str(data.get("kind", "")),
    )


def markup_records(
    pass_dir: Path | str, excerpts: Sequence[Excerpt], texts: dict[str, str], provenance: str
) -> list[dict]:
    """Standoff records from a folder of inline-markup files (``<doc_id>.txt``), one per excerpt found."""
    records = []
    for excerpt in excerpts:
        path = Path(pass_dir) / f"{excerpt.doc_id}.txt"
        if path.exists():
            _, spans = parse_markup(path.read_text(encoding="utf-8"), texts[excerpt.doc_id], str(path))
            records.append(standoff_record(excerpt, spans, provenance))
    return records
