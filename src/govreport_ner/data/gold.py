"""The gold as a Dataset of clauses, and the held-out regions of a holdout setting.

:class:`GoldSettings` says where the gold is and how it is split (the ``data`` config group,
read by :func:`govreport_ner.commands.config.gold_settings`). ``gold`` holds the seed gold
(Label Studio exports); with ``corpus_gold`` the standoff gold over corpus excerpts is rebuilt
from ``corpus_dir`` and added. ``holdout`` names regions, or ``fold-<i>`` for one of ``folds``
province-grouped folds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from datasets import concatenate_datasets

from govreport_ner.annotation.corpus_gold import load_corpus_gold, read_standoff, standoff_files
from govreport_ner.annotation.labelstudio_format import read_export
from govreport_ner.data.dataset import build_dataset, province_folds, split_by_region, subsample_regions
from govreport_ner.text.seeds import SeedMeta, load_metadata, region_aliases

log = logging.getLogger(__name__)
FOLD_RE = re.compile(r"fold-(\d+)")


@dataclass(frozen=True)
class GoldSettings:
    """Where the gold is, the clause budget and the held-out regions (the keys of ``configs/data/``)."""

    gold: str | Path  # a folder of Label Studio *.json exports, or one file
    seed_dir: str | Path  # seed texts + regions.csv
    max_chars: int  # the clause budget
    corpus_gold: str | Path | None  # one standoff record per corpus excerpt, or None
    corpus_dir: str | Path | None  # the corpus those excerpts come from
    folds: int | None  # K province-grouped folds, or None
    holdout: str | Sequence[str] | None  # region names/ids, doc ids, or fold-<i>; None: no held-out region
    # defaults only for runs configured before learning curves (their saved config.yaml lacks the keys)
    train_fraction: float = 1.0  # the share of the training regions kept (a learning curve); test untouched
    train_fraction_seed: int = 0  # which regions that share is
    # standoff gold for training only (annotations/corpus_next, or a list of such batches); the excerpts
    # of held-out provinces are left out
    extra_train_gold: str | Path | Sequence[str | Path] | None = None


def load_gold_tasks(settings: GoldSettings, skip_unannotated: bool = False):
    """The gold tasks (seed exports, plus the corpus gold with ``corpus_gold``), each with its province."""
    tasks, report = read_export(settings.gold, skip_unannotated=skip_unannotated)
    for problem in report.repairs + report.skipped:
        log.warning("%s", problem)
    provinces = {m.region: m.province for m in seed_metadata(settings.seed_dir).values()}
    tasks = [t if t.province else replace(t, province=provinces.get(t.region, "")) for t in tasks]
    if settings.corpus_gold:
        tasks += load_corpus_gold(settings.corpus_gold, settings.corpus_dir)
    return tasks, report


def load_gold_dataset(settings: GoldSettings, skip_unannotated: bool = False):
    """The gold clauses as a Dataset, with the export reader's report."""
    tasks, report = load_gold_tasks(settings, skip_unannotated)
    return build_dataset(tasks, settings.max_chars), report


def load_gold_splits(settings: GoldSettings):
    """The gold clauses split by the held-out regions of ``settings``: ``train``, and ``test`` when
    some region is held out (what a training run of these settings trained and was tested on).
    With ``train_fraction`` < 1 only that share of the training regions is kept; the test clauses stay."""
    dataset, _ = load_gold_dataset(settings)
    splits = split_by_region(dataset, resolve_holdout(settings))
    train = subsample_regions(splits["train"], settings.train_fraction, settings.train_fraction_seed)
    if settings.extra_train_gold:
        held = set(splits["test"]["province"]) if "test" in splits else set()
        train = concatenate_datasets([train, extra_training_clauses(settings, set(dataset["doc_id"]), held)])
    splits["train"] = train
    return splits


def extra_gold_folders(extra_train_gold: str | Path | Sequence[str | Path] | None) -> list[Path]:
    """``data.extra_train_gold`` as a list of batch folders (one folder, a list of them, or none)."""
    if not extra_train_gold:
        return []
    if isinstance(extra_train_gold, (str, Path)):
        return [Path(extra_train_gold)]
    return [Path(folder) for folder in extra_train_gold]


def extra_training_clauses(settings: GoldSettings, gold_doc_ids: set[str], held_out_provinces: set[str]):
    """The clauses of ``extra_train_gold`` (batches not yet merged into the gold) for training: excerpts
    of held-out provinces are left out, so a test fold's provinces stay unseen."""
    tasks, seen = [], set(gold_doc_ids)
    for folder in extra_gold_folders(settings.extra_train_gold):
        batch = load_corpus_gold(folder, settings.corpus_dir)
        both = sorted({t.doc_id for t in batch} & seen)
        if both:
            raise ValueError(f"{folder} repeats excerpts of the gold or of an earlier batch: {', '.join(both)}")
        seen |= {t.doc_id for t in batch}
        tasks += batch
    kept = [t for t in tasks if t.province not in held_out_provinces]
    log.info("extra training gold: %d of %d excerpts (held-out provinces left out)", len(kept), len(tasks))
    return build_dataset(kept, settings.max_chars)


def seed_metadata(seed_dir: str | Path) -> dict[str, SeedMeta]:
    """The rows of ``<seed_dir>/regions.csv`` (empty when there is no such table)."""
    table = Path(seed_dir) / "regions.csv"
    return load_metadata(table) if table.exists() else {}


def region_ids(seed_dir: str | Path) -> dict[str, str]:
    """Region name -> ASCII region id, from the seed metadata."""
    return {m.region: m.region_id for m in seed_metadata(seed_dir).values()}


def region_provinces(seed_dir: str | Path, corpus_gold: str | Path | None) -> dict[str, str]:
    """Province of every gold region (seed metadata and corpus standoff records; no corpus text read)."""
    provinces = {m.region: m.province for m in seed_metadata(seed_dir).values()}
    if corpus_gold:
        for path in standoff_files(corpus_gold):
            record = read_standoff(path)
            provinces[record["region"]] = record["province"]
    return provinces


def fold_regions(settings: GoldSettings, fold: int) -> list[str]:
    """The regions of province-grouped test fold ``fold`` of ``folds``."""
    k = settings.folds
    if not k:
        raise ValueError(f"data.holdout=fold-{fold} needs data.folds=K (the number of province-grouped folds)")
    if not 0 <= fold < k:
        raise ValueError(f"data.holdout=fold-{fold}: folds are numbered 0..{k - 1}")
    return province_folds(region_provinces(settings.seed_dir, settings.corpus_gold), k)[fold]


def resolve_holdout(settings: GoldSettings) -> list[str] | None:
    """Held-out region names from ``holdout``: names, ASCII ids (xunxian), doc ids, or ``fold-<i>``."""
    holdout = settings.holdout
    if holdout is None:
        return None
    if isinstance(holdout, str) and (m := FOLD_RE.fullmatch(holdout)):
        return fold_regions(settings, int(m.group(1)))
    given = [holdout] if isinstance(holdout, str) else list(holdout)
    aliases = region_aliases(seed_metadata(settings.seed_dir))
    return [aliases.get(str(name), str(name)) for name in given]
