"""The gold of ``data.gold`` as a Dataset of clauses, and the held-out regions of ``data.holdout``."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.annotation.labelstudio_format import read_export
from govreport_ner.data.dataset import build_dataset
from govreport_ner.text.seeds import SeedMeta, load_metadata, region_aliases

log = logging.getLogger(__name__)


def load_gold_dataset(data_cfg: DictConfig, skip_unannotated: bool = False):
    """The gold clauses of ``data.gold`` as a Dataset, with the export reader's report."""
    tasks, report = read_export(data_cfg.gold, skip_unannotated=skip_unannotated)
    for problem in report.repairs + report.skipped:
        log.warning("%s", problem)
    return build_dataset(tasks, data_cfg.max_chars), report


def seed_metadata(data_cfg: DictConfig) -> dict[str, SeedMeta]:
    """The rows of ``<data.seed_dir>/regions.csv`` (empty when there is no such table)."""
    table = Path(data_cfg.seed_dir) / "regions.csv"
    return load_metadata(table) if table.exists() else {}


def region_ids(data_cfg: DictConfig) -> dict[str, str]:
    """Region name -> ASCII region id, from the seed metadata."""
    return {m.region: m.region_id for m in seed_metadata(data_cfg).values()}


def resolve_holdout(data_cfg: DictConfig) -> list[str] | None:
    """Held-out region names from ``data.holdout``: names, ASCII ids (xunxian) or doc ids."""
    holdout = data_cfg.holdout
    if holdout is None:
        return None
    given = [holdout] if isinstance(holdout, str) else list(holdout)
    aliases = region_aliases(seed_metadata(data_cfg))
    return [aliases.get(str(name), str(name)) for name in given]
