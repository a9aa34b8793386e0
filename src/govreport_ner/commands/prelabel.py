"""``scripts/prelabel.py``: Label Studio tasks with rule pre-annotations."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.annotation.labelstudio_format import write_tasks
from govreport_ner.text.seeds import metadata_by_file


def prelabel_command(cfg: DictConfig) -> int:
    """Write Label Studio tasks with rule predictions for every report of ``inputs``."""
    from govreport_ner.labelstudio.importer import build_tasks, resolve_predictor

    inputs = Path(cfg.inputs)
    predict, version = resolve_predictor("rules")
    tasks, failed = build_tasks(inputs, cfg.per, predict, version, metadata_by_file(inputs, cfg.metadata))
    n = write_tasks(tasks, cfg.output)
    print(f"wrote {n} tasks with {version} predictions to {cfg.output}")
    for err in failed:
        print(f"SKIPPED {err}")
    return n
