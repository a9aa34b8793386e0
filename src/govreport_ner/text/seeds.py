"""Seed reports and their region metadata (``seeds/regions.csv``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from govreport_ner.text.reader import Document, read_report

REQUIRED_COLUMNS = ("doc_id", "file", "region", "province", "level", "year")


@dataclass(frozen=True)
class SeedMeta:
    """One row of the metadata table."""

    doc_id: str
    file: str
    region: str
    province: str
    level: str
    year: int
    prefecture: str = ""
    region_id: str = ""


def load_metadata(path: Path | str) -> dict[str, SeedMeta]:
    """Metadata rows by doc id; missing columns or duplicate ids are errors."""
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        rows: dict[str, SeedMeta] = {}
        for row in reader:
            if row["doc_id"] in rows:
                raise ValueError(f"{path}: duplicate doc_id {row['doc_id']!r}")
            rows[row["doc_id"]] = SeedMeta(
                doc_id=row["doc_id"],
                file=row["file"],
                region=row["region"],
                province=row["province"],
                level=row["level"],
                year=int(row["year"]),
                prefecture=row.get("prefecture", "") or "",
                region_id=row.get("region_id", "") or "",
            )
    return rows


def load_seed_documents(seed_dir: Path | str, metadata_file: str = "regions.csv") -> list[tuple[Document, SeedMeta]]:
    """Every seed document with its metadata, in table order."""
    seed_dir = Path(seed_dir)
    metadata = load_metadata(seed_dir / metadata_file)
    return [(read_report(seed_dir / meta.file, doc_id=meta.doc_id), meta) for meta in metadata.values()]


def region_aliases(metadata: dict[str, SeedMeta]) -> dict[str, str]:
    """Region name by every name it may be given as: the name, its ASCII id, a doc id."""
    aliases: dict[str, str] = {}
    for meta in metadata.values():
        for alias in (meta.region, meta.region_id, meta.doc_id):
            if alias:
                aliases[alias] = meta.region
    return aliases


def metadata_by_file(inputs: Path, metadata: str | None) -> dict[str, SeedMeta]:
    """File name -> metadata row, from a regions.csv given or lying beside the inputs."""
    table = Path(metadata) if metadata else (inputs if inputs.is_dir() else inputs.parent) / "regions.csv"
    if not table.exists():
        return {}
    return {meta.file: meta for meta in load_metadata(table).values()}
