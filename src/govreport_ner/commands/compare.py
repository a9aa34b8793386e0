"""``scripts/compare.py``: two settings compared run by run on the same folds and seeds."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from govreport_ner.evaluate.folds import format_differences, paired_differences


def read_summary(path: Path) -> dict:
    """An ``aggregate.py`` summary (loro.json)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: give a loro.json written by scripts/aggregate.py")
    return json.loads(path.read_text(encoding="utf-8"))


def setting_name(path: Path) -> str:
    """A summary's setting, from where aggregate.py put it: ``runs/<sweep>/loro/loro.json`` or ``<output>/loro.json``."""
    return path.parent.parent.name if path.parent.name == "loro" else path.parent.name


def compare_command(cfg: DictConfig) -> dict:
    """Candidate minus baseline per metric, paired by seed position and fold; printed, and written with ``output``."""
    paths = Path(cfg.baseline), Path(cfg.candidate)
    baseline, candidate = (read_summary(p) for p in paths)
    comparison = paired_differences(baseline, candidate, cfg.system, pairing=cfg.get("pairing", "seed"))
    names = tuple(cfg.names) if cfg.get("names") else tuple(setting_name(p) for p in paths)
    table = format_differences(comparison, baseline, candidate, names)
    print(table)
    if cfg.get("output"):
        out = Path(cfg.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(table, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(comparison, indent=2), encoding="utf-8")
    return comparison
