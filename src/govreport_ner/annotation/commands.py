"""Hydra commands of the annotation stage."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.annotation.excerpts import Excerpt, sample_excerpts, write_excerpts_csv
from govreport_ner.text.reader import read_report


def sample_excerpts_command(cfg: DictConfig) -> list[Excerpt]:
    """Choose the excerpts, write ``excerpts.csv`` and (if asked) their texts for annotators."""
    excerpts = sample_excerpts(
        cfg.corpus_dir,
        n=cfg.n,
        mix=dict(cfg.mix),
        seed=cfg.seed,
        target_chars=cfg.target_chars,
        max_chars=cfg.max_chars,
        exclude_notes=list(cfg.exclude_notes),
        exclude_files=list(cfg.exclude_files),
        look_ahead=cfg.look_ahead,
    )
    write_excerpts_csv(excerpts, cfg.output)
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
