"""``scripts/targets.py``: one panel row per target for a corpus (issue 11 item 5).

Inputs are a ``predict.py`` JSONL output (its targets are used as they are) or reports (a
folder, files, or a JSONL of ``{"id", "text"}``: they are predicted here with the configured
checkpoint, ``rules`` by default). Region, province and year come from metadata: the
``INDEX.tsv`` beside the reports, ``seeds/regions.csv``, or a CSV passed as ``metadata=``
(columns ``doc`` or ``file``, and ``region``, ``province``, ``year``); for a predict JSONL,
the ``INDEX.tsv`` beside each record's ``source`` is read too. A year read from the
report itself is replaced by the metadata year (the year before for a result); a year from a
deadline (到2025年) stays.

Writes ``output`` (CSV), ``<output>.parquet`` beside it when pyarrow is installed, one PNG of
the headline-indicator targets across documents and a short Markdown summary.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from govreport_ner.extract.indicators import INDICATOR_IDS
from govreport_ner.text.reader import is_jsonl

PANEL_COLUMNS = (
    "doc",
    "region",
    "province",
    "year",
    "kind",
    "headline",
    "indicator_id",
    "indicator",
    "direction",
    "value",
    "low",
    "high",
    "unit",
    "comparator",
    "factor",
    "deadline",
    "deadline_scope",
    "project",
    "project_label",
    "quantity",
    "quantity_start",
    "quantity_end",
    "unit_start",
    "unit_end",
    "indicator_start",
    "indicator_end",
    "direction_start",
    "direction_end",
    "deadline_start",
    "deadline_end",
    "project_start",
    "project_end",
    "clause_start",
    "clause_end",
    "source",
)


# --------------------------------------------------------------------------- metadata


def _read_table(path: Path) -> list[dict]:
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def load_metadata(paths: list[Path]) -> dict[str, dict]:
    """Region, province and year by document id (file stem, ``doc_id`` or ``doc``), from CSV/TSV files."""
    meta: dict[str, dict] = {}
    for path in paths:
        if not path.is_file():
            continue
        for row in _read_table(path):
            entry = {
                "region": row.get("region") or None,
                "province": row.get("province") or None,
                "year": int(row["year"]) if (row.get("year") or "").strip().isdigit() else None,
            }
            for key in ("doc", "doc_id", "id", "file"):
                if row.get(key):
                    meta.setdefault(Path(row[key]).stem if key == "file" else row[key], entry)
    return meta


def metadata_files(inputs: list[Path], seeds: Path | None, extra: str | None) -> list[Path]:
    """The metadata files: the user's first, then INDEX.tsv beside each input, then the seeds' regions.csv."""
    files = [Path(extra)] if extra else []
    for path in inputs:
        folder = path if path.is_dir() else path.parent
        files.append(folder / "INDEX.tsv")
    if seeds is not None:
        files.append(seeds / "regions.csv")
    return files


# --------------------------------------------------------------------------- records


def _is_predict_output(path: Path) -> bool:
    if not (path.is_file() and is_jsonl(path)):
        return False
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                return "targets" in json.loads(line)
    return False


def iter_records(inputs: list[Path], cfg) -> Iterator[dict]:
    """``predict.py`` records: read from a predict JSONL, or predicted here from reports."""
    reports = [p for p in inputs if not _is_predict_output(p)]
    for path in inputs:
        if path not in reports:
            with path.open(encoding="utf-8") as handle:
                yield from (json.loads(line) for line in handle if line.strip())
    if not reports:
        return
    from govreport_ner.predict.predictors import load_predictor
    from govreport_ner.predict.writers import document_record
    from govreport_ner.text.inputs import Failure, iter_documents

    predictor = load_predictor(cfg)
    for doc in iter_documents(reports):
        if isinstance(doc, Failure):
            print(f"failed: {doc.source}: {doc.reason}", flush=True)
            continue
        ((clauses, spans),) = predictor.tag_documents([doc.text])
        yield document_record(doc, spans, predictor.model_version, clauses)


def _span(target: dict, key: str) -> tuple[int | None, int | None]:
    span = target.get(key)
    return (span["start"], span["end"]) if span else (None, None)


def panel_rows(record: dict, meta: dict[str, dict]) -> list[dict]:
    """One panel row per target of a ``predict.py`` record."""
    info = meta.get(record["id"], {})
    rows = []
    for t in record["targets"]:
        year = t.get("year")
        if info.get("year") is not None and t.get("year_source") != "deadline":
            year = info["year"] if t.get("kind") == "target" else info["year"] - 1
        row = {key: t.get(key) for key in PANEL_COLUMNS if key in t}
        row.update(doc=record["id"], source=record.get("source"), region=info.get("region"))
        row.update(province=info.get("province"), year=year)
        for name in ("quantity", "unit", "deadline", "project", "direction"):
            row[f"{name}_start"], row[f"{name}_end"] = _span(t, f"{name}_span")
        rows.append({key: row.get(key) for key in PANEL_COLUMNS})
    return rows


# --------------------------------------------------------------------------- outputs


def write_csv(rows: list[dict], path: Path) -> None:
    from govreport_ner.predict.writers import _csv_cell as _cell
    from govreport_ner.predict.writers import atomic_write

    with atomic_write(path, encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PANEL_COLUMNS)
        writer.writerows([_cell(row[c]) for c in PANEL_COLUMNS] for row in rows)


def write_parquet(rows: list[dict], path: Path) -> bool:
    """The panel as Parquet; False (nothing written) when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    floats = {"value", "low", "high", "factor"}
    columns = {
        c: pa.array([None if r[c] is None else float(r[c]) for r in rows], pa.float64())
        if c in floats
        else pa.array([r[c] for r in rows])
        for c in PANEL_COLUMNS
    }
    pq.write_table(pa.table(columns), path)
    return True


def headline_values(rows: list[dict]) -> dict[str, list[float]]:
    """The headline targets' values (a range's midpoint) per indicator id, one per document (the first)."""
    seen: set[tuple[str, str]] = set()
    values: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        ident = row["indicator_id"]
        if not row["headline"] or ident is None or (row["doc"], ident) in seen:
            continue
        seen.add((row["doc"], ident))
        value = (
            row["value"]
            if row["value"] is not None
            else (row["low"] + row["high"]) / 2
            if row["low"] is not None
            else None
        )
        if value is not None:
            values[ident].append(float(value))
    return {ident: values[ident] for ident in INDICATOR_IDS if values.get(ident)}


def draw_chart(values: dict[str, list[float]], path: Path, documents: int) -> None:
    """One PNG: a histogram per headline indicator of its targets across documents."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idents = list(values) or ["(none)"]
    cols = 3
    rows = (len(idents) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    for ax, ident in zip(axes.flat, idents, strict=False):
        data = values.get(ident, [])
        if data:
            ax.hist(data, bins=min(20, max(5, len(set(data)))), color="#4477aa", edgecolor="white")
            ax.axvline(statistics.median(data), color="#cc3311", linewidth=1)
        ax.set_title(f"{ident} (n={len(data)})", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(idents) :]:
        ax.axis("off")
    fig.suptitle(f"Headline targets across {documents} reports (red: median)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary_markdown(rows: list[dict], documents: list[str], values: dict[str, list[float]], files: list[str]) -> str:
    """A short Markdown summary of the panel."""
    headline_docs = {r["doc"] for r in rows if r["headline"]}
    kinds = Counter(r["kind"] for r in rows)
    with_id = sum(1 for r in rows if r["indicator_id"])
    lines = [
        "# Targets panel",
        "",
        f"{len(documents)} documents, {len(rows)} targets ({kinds.get('target', 0)} planned, "
        f"{kinds.get('result', 0)} results), {sum(1 for r in rows if r['headline'])} headline targets in "
        f"{len(headline_docs)} documents; {with_id} targets have a canonical indicator id.",
        "",
        "Files: " + ", ".join(f"`{f}`" for f in files),
        "",
        "| indicator_id | documents | median | min | max |",
        "|---|---|---|---|---|",
    ]
    for ident, data in values.items():
        lines.append(f"| {ident} | {len(data)} | {statistics.median(data):g} | {min(data):g} | {max(data):g} |")
    missing = sorted(set(documents) - headline_docs)
    if missing:
        lines += ["", f"No headline paragraph found in: {', '.join(missing)}"]
    return "\n".join(lines) + "\n"


def targets_command(cfg) -> int:
    """``scripts/targets.py``: the panel CSV (and Parquet), chart and summary; returns the exit code."""
    raw = cfg.inputs
    inputs = [Path(str(p)) for p in ([raw] if isinstance(raw, (str, Path)) else raw)]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        print(f"error: no such input: {', '.join(missing)}", flush=True)
        return 2
    output = Path(cfg.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    seeds = Path(cfg.paths.seeds) if cfg.get("paths") else None
    meta = load_metadata(metadata_files(inputs, seeds, cfg.metadata))
    rows, documents = [], []
    folders_read: set[Path] = set()
    for record in iter_records(inputs, cfg):
        folder = Path(record.get("source") or "").parent
        if record["id"] not in meta and folder not in folders_read:  # INDEX.tsv beside a predicted report
            folders_read.add(folder)
            meta = {**load_metadata([folder / "INDEX.tsv"]), **meta}
        documents.append(record["id"])
        rows += panel_rows(record, meta)
    write_csv(rows, output)
    files = [str(output)]
    if cfg.parquet and write_parquet(rows, output.with_suffix(".parquet")):
        files.append(str(output.with_suffix(".parquet")))
    values = headline_values(rows)
    chart = output.with_suffix(".png")
    draw_chart(values, chart, len(documents))
    files.append(str(chart))
    summary = output.with_suffix(".md")
    summary.write_text(summary_markdown(rows, documents, values, files + [str(summary)]), encoding="utf-8")
    files.append(str(summary))
    print(f"{len(documents)} documents, {len(rows)} targets -> {', '.join(files)}", flush=True)
    return 0


def score_headline_command(cfg) -> dict:
    """``scripts/score_headline.py``: score predictions (or a second pass) against the headline gold."""
    from govreport_ner.extract.headline_gold import predicted_rows, read_docs, read_gold, score

    docs = read_docs(cfg.docs)
    gold = [row for row in read_gold(cfg.gold) if row["doc"] in set(docs)]
    if cfg.predictions and str(cfg.predictions).endswith(".tsv"):
        predicted = read_gold(cfg.predictions)
    elif cfg.predictions:
        predicted = predicted_rows(iter_records([Path(cfg.predictions)], cfg), set(docs))
    else:
        files = [Path(cfg.corpus) / f"{doc}.txt" for doc in docs]
        predicted = predicted_rows(iter_records(files, cfg), set(docs))
    scores = score(gold, predicted)
    micro = scores["micro"]
    print(
        f"{len(docs)} documents: gold {micro['gold']}, predicted {micro['predicted']}, correct {micro['correct']}: "
        f"P {micro['precision']:.3f} R {micro['recall']:.3f} F1 {micro['f1']:.3f}",
        flush=True,
    )
    for label, rows in (("missed", scores["missed"]), ("spurious", scores["spurious"])):
        for row in rows:
            print(f"  {label}: {row}", flush=True)
    if cfg.output:
        Path(cfg.output).write_text(json.dumps(scores, ensure_ascii=False, indent=2), encoding="utf-8")
    return scores
