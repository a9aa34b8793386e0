"""``scripts/build_dataset.py``: gold -> DatasetDict on disk, with statistics (per fold with ``data.folds``)."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.commands.config import gold_settings
from govreport_ner.data.dataset import format_statistics, province_folds, split_by_region, statistics
from govreport_ner.data.gold import GoldSettings, load_gold_dataset, region_provinces, resolve_holdout
from govreport_ner.labels import LABELS


def build_dataset_command(cfg: DictConfig) -> dict:
    """Build the DatasetDict, save it to ``output_dir`` and print its statistics."""
    settings = gold_settings(cfg.data)
    dataset, report = load_gold_dataset(settings, cfg.skip_unannotated)
    dataset_dict = split_by_region(dataset, resolve_holdout(settings))
    out = Path(cfg.output_dir)
    dataset_dict.save_to_disk(str(out))
    stats = {split: statistics(ds) for split, ds in dataset_dict.items()}
    print(f"export: {report.summary().splitlines()[0]}")
    for split, split_stats in stats.items():
        print(f"\n## {split}\n\n{format_statistics(split_stats)}")
    if settings.folds:
        stats["folds"] = fold_statistics(dataset, settings)
        print(f"\n## province-grouped folds (data.folds={settings.folds}; hold one out with data.holdout=fold-<i>)\n")
        print(format_fold_statistics(stats["folds"]))
    (out / "statistics.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nsaved DatasetDict({', '.join(f'{k}: {len(v)}' for k, v in dataset_dict.items())}) to {out}")
    return stats


def fold_statistics(dataset, settings: GoldSettings) -> list[dict]:
    """Regions, provinces, clauses, characters and entities per label of every test fold."""
    rows = []
    provinces = region_provinces(settings.seed_dir, settings.corpus_gold)
    for i, regions in enumerate(province_folds(provinces, settings.folds)):
        test = split_by_region(dataset, regions)["test"]
        total = statistics(test)["total"]
        rows.append({"fold": f"fold-{i}", "regions": len(regions), "provinces": len(set(test["province"])), **total})
    return rows


def format_fold_statistics(rows: list[dict]) -> str:
    """Fold statistics as a Markdown table."""
    header = ["fold", "regions", "provinces", "clauses", "characters", *LABELS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[k]) for k in header) + " |" for row in rows]
    return "\n".join(lines)
