"""``scripts/build_dataset.py``: Label Studio export(s) -> DatasetDict on disk, with statistics."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.data.dataset import format_statistics, split_by_region, statistics
from govreport_ner.data.gold import load_gold_dataset, resolve_holdout


def build_dataset_command(cfg: DictConfig) -> dict:
    """Build the DatasetDict, save it to ``output_dir`` and print its statistics."""
    dataset, report = load_gold_dataset(cfg.data, cfg.skip_unannotated)
    dataset_dict = split_by_region(dataset, resolve_holdout(cfg.data))
    out = Path(cfg.output_dir)
    dataset_dict.save_to_disk(str(out))
    stats = {split: statistics(ds) for split, ds in dataset_dict.items()}
    (out / "statistics.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"export: {report.summary().splitlines()[0]}")
    for split, split_stats in stats.items():
        print(f"\n## {split}\n\n{format_statistics(split_stats)}")
    print(f"\nsaved DatasetDict({', '.join(f'{k}: {len(v)}' for k, v in dataset_dict.items())}) to {out}")
    return stats
