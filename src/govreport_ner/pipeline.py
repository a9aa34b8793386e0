"""The work behind the thin entry points in ``scripts/`` (dataset building and pre-labelling)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

from omegaconf import DictConfig

from . import rules
from .dataset import build_dataset, format_statistics, split_by_region, statistics
from .labelstudio_format import add_prediction, document_tasks, read_export, write_tasks
from .reader import ReportReadError, iter_inputs
from .seeds import SeedMeta, load_metadata

log = logging.getLogger(__name__)


def load_gold_dataset(data_cfg: DictConfig, skip_unannotated: bool = False):
    """The gold clauses of ``data.gold`` as a Dataset, with the export reader's report."""
    tasks, report = read_export(data_cfg.gold, skip_unannotated=skip_unannotated)
    for problem in report.repairs + report.skipped:
        log.warning("%s", problem)
    return build_dataset(tasks, data_cfg.max_chars), report


def build_dataset_command(cfg: DictConfig) -> dict:
    """Build the DatasetDict, save it to ``output_dir`` and print its statistics."""
    dataset, report = load_gold_dataset(cfg.data, cfg.get("skip_unannotated", False))
    dataset_dict = split_by_region(dataset, cfg.data.holdout)
    out = Path(cfg.output_dir)
    dataset_dict.save_to_disk(str(out))
    stats = {split: statistics(ds) for split, ds in dataset_dict.items()}
    (out / "statistics.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"export: {report.summary().splitlines()[0]}")
    for split, split_stats in stats.items():
        print(f"\n## {split}\n\n{format_statistics(split_stats)}")
    print(f"\nsaved DatasetDict({', '.join(f'{k}: {len(v)}' for k, v in dataset_dict.items())}) to {out}")
    return stats


def metadata_by_file(inputs: Path, metadata: str | None) -> dict[str, SeedMeta]:
    """File name -> metadata row, from a regions.csv given or lying beside the inputs."""
    table = Path(metadata) if metadata else (inputs if inputs.is_dir() else inputs.parent) / "regions.csv"
    if not table.exists():
        return {}
    return {meta.file: meta for meta in load_metadata(table).values()}


def prelabel_command(cfg: DictConfig) -> int:
    """Write Label Studio tasks with rule predictions for every report of ``inputs``."""
    inputs = Path(cfg.inputs)
    metadata = metadata_by_file(inputs, cfg.get("metadata"))
    tasks, failed = [], []
    for item in iter_inputs(inputs):
        if isinstance(item, ReportReadError):
            failed.append(item)
            continue
        meta = metadata.get(Path(item.source).name)
        doc = replace(item, id=meta.doc_id) if meta else item
        spans = rules.tag_text(doc.text)
        for task in document_tasks(doc, meta.region if meta else "", cfg.per, {"source": item.source}):
            tasks.append(add_prediction(task, spans, rules.MODEL_VERSION))
    n = write_tasks(tasks, cfg.output)
    print(f"wrote {n} tasks with {rules.MODEL_VERSION} predictions to {cfg.output}")
    for err in failed:
        print(f"SKIPPED {err}")
    return n
