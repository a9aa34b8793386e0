"""Commands of the annotation stage: ``scripts/sample_excerpts.py``, ``scripts/import_markup.py``
and ``scripts/annotation_report.py``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.annotation.corpus_gold import excerpt_text, markup_records, write_standoff
from govreport_ner.annotation.excerpts import Excerpt, read_excerpts_csv, sample_excerpts, write_excerpts_csv
from govreport_ner.annotation.report import CorpusPasses, SeedPasses, write_annotation_report
from govreport_ner.text.reader import read_report


def sample_excerpts_command(cfg: DictConfig) -> list[Excerpt]:
    """Choose the excerpts, write ``excerpts.csv`` and (if asked) their texts for annotators.

    With ``append=true`` the excerpts already in ``output`` are kept, their reports are left
    out, and ``n`` more are chosen from the rest.
    """
    kept = read_excerpts_csv(cfg.output) if cfg.append and Path(cfg.output).exists() else []
    excerpts = kept + sample_excerpts(
        cfg.corpus_dir,
        n=cfg.n,
        mix=dict(cfg.mix),
        seed=cfg.seed,
        target_chars=cfg.target_chars,
        max_chars=cfg.max_chars,
        exclude_notes=list(cfg.exclude_notes),
        exclude_files=[*cfg.exclude_files, *(e.source for e in kept)],
        look_ahead=cfg.look_ahead,
    )
    write_excerpts_csv(sorted(excerpts, key=lambda e: e.doc_id), cfg.output)
    if cfg.text_dir:
        text_dir = Path(cfg.text_dir)
        text_dir.mkdir(parents=True, exist_ok=True)
        for e in excerpts:
            text = read_report(Path(cfg.corpus_dir) / e.source).text[e.start : e.end]
            (text_dir / f"{e.doc_id}.txt").write_text(text, encoding="utf-8")
    chars = sum(e.end - e.start for e in excerpts)
    print(
        f"{len(excerpts)} excerpts, {chars:,} characters, {len({e.region for e in excerpts})} regions, "
        f"{len({e.province for e in excerpts})} provinces; kinds {dict(Counter(e.kind for e in excerpts))} -> {cfg.output}"
    )
    return excerpts


def import_markup_command(cfg: DictConfig) -> list[Path]:
    """Write one standoff record per markup file found; every file is checked against its excerpt."""
    excerpts = read_excerpts_csv(cfg.excerpts)
    texts = {e.doc_id: excerpt_text(e.to_row(), cfg.corpus_dir) for e in excerpts}
    records = markup_records(cfg.markup_dir, excerpts, texts, cfg.provenance)
    missing = sorted({e.doc_id for e in excerpts} - {r["doc_id"] for r in records})
    if cfg.require_all and missing:
        raise FileNotFoundError(f"{cfg.markup_dir}: no markup for {len(missing)} excerpts: {', '.join(missing)}")
    paths = [write_standoff(Path(cfg.output_dir) / f"{r['doc_id']}.json", r) for r in records]
    spans = sum(len(r["spans"]) for r in records)
    print(f"{len(paths)} standoff records ({spans} spans) -> {cfg.output_dir}; {len(missing)} excerpts without markup")
    return paths


def annotation_report_command(cfg: DictConfig) -> dict:
    """Write the gold exports, ``annotations/measured.json`` and the README's measured sections."""
    seed = SeedPasses(cfg.data.seed_dir, cfg.passes_dir, list(cfg.passes), cfg.adjudicated_dir, cfg.data.max_chars)
    c = cfg.corpus
    corpus = CorpusPasses(c.gold_dir, c.corpus_dir, list(c.passes), c.review, c.adjudicated, c.get("reannotation"))
    report = write_annotation_report(seed, corpus, cfg.gold_dir, cfg.readme, cfg.numbers)
    wrote = f"wrote {len(report.gold_paths)} gold exports to {cfg.gold_dir}, numbers to {cfg.numbers}"
    print(f"{wrote}, sections of {Path(cfg.readme)}")
    print(report.section)
    if report.corpus_section:
        print(report.corpus_section)
    return report.numbers
