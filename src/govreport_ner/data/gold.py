"""The gold as a Dataset of clauses, and the held-out regions of ``data.holdout``.

``data.gold`` holds the seed gold (Label Studio exports); with ``data.corpus_gold`` the standoff
gold over corpus excerpts is rebuilt from ``data.corpus_dir`` and added. ``data.holdout`` names
regions, or ``fold-<i>`` for one of ``data.folds`` province-grouped folds.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.annotation.corpus_gold import load_corpus_gold, read_standoff, standoff_files
from govreport_ner.annotation.labelstudio_format import read_export
from govreport_ner.data.dataset import build_dataset, province_folds
from govreport_ner.text.seeds import SeedMeta, load_metadata, region_aliases

log = logging.getLogger(__name__)
FOLD_RE = re.compile(r"fold-(\d+)")


def load_gold_tasks(data_cfg: DictConfig, skip_unannotated: bool = False):
    """The gold tasks (seed exports, plus the corpus gold with ``data.corpus_gold``), each with its province."""
    tasks, report = read_export(data_cfg.gold, skip_unannotated=skip_unannotated)
    for problem in report.repairs + report.skipped:
        log.warning("%s", problem)
    provinces = {m.region: m.province for m in seed_metadata(data_cfg).values()}
    tasks = [t if t.province else replace(t, province=provinces.get(t.region, "")) for t in tasks]
    if data_cfg.corpus_gold:
        tasks += load_corpus_gold(data_cfg.corpus_gold, data_cfg.corpus_dir)
    return tasks, report


def load_gold_dataset(data_cfg: DictConfig, skip_unannotated: bool = False):
    """The gold clauses as a Dataset, with the export reader's report."""
    tasks, report = load_gold_tasks(data_cfg, skip_unannotated)
    return build_dataset(tasks, data_cfg.max_chars), report


def seed_metadata(data_cfg: DictConfig) -> dict[str, SeedMeta]:
    """The rows of ``<data.seed_dir>/regions.csv`` (empty when there is no such table)."""
    table = Path(data_cfg.seed_dir) / "regions.csv"
    return load_metadata(table) if table.exists() else {}


def region_ids(data_cfg: DictConfig) -> dict[str, str]:
    """Region name -> ASCII region id, from the seed metadata."""
    return {m.region: m.region_id for m in seed_metadata(data_cfg).values()}


def region_provinces(data_cfg: DictConfig) -> dict[str, str]:
    """Province of every gold region (seed metadata and corpus standoff records; no corpus text read)."""
    provinces = {m.region: m.province for m in seed_metadata(data_cfg).values()}
    if data_cfg.corpus_gold:
        for path in standoff_files(data_cfg.corpus_gold):
            record = read_standoff(path)
            provinces[record["region"]] = record["province"]
    return provinces


def fold_regions(data_cfg: DictConfig, fold: int) -> list[str]:
    """The regions of province-grouped test fold ``fold`` of ``data.folds``."""
    k = data_cfg.folds
    if not k:
        raise ValueError(f"data.holdout=fold-{fold} needs data.folds=K (the number of province-grouped folds)")
    if not 0 <= fold < k:
        raise ValueError(f"data.holdout=fold-{fold}: folds are numbered 0..{k - 1}")
    return province_folds(region_provinces(data_cfg), k)[fold]


def resolve_holdout(data_cfg: DictConfig) -> list[str] | None:
    """Held-out region names from ``data.holdout``: names, ASCII ids (xunxian), doc ids, or ``fold-<i>``."""
    holdout = data_cfg.holdout
    if holdout is None:
        return None
    if isinstance(holdout, str) and (m := FOLD_RE.fullmatch(holdout)):
        return fold_regions(data_cfg, int(m.group(1)))
    given = [holdout] if isinstance(holdout, str) else list(holdout)
    aliases = region_aliases(seed_metadata(data_cfg))
    return [aliases.get(str(name), str(name)) for name in given]
