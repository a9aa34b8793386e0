"""Hydra/OmegaConf helpers of the commands: the config folder, the project root, the resolvers."""

from __future__ import annotations

import re
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = str(PROJECT_ROOT / "configs")


def holdout_name(holdout) -> str:
    """A file-name-safe name for a holdout setting (null -> 'none', lists joined by '+')."""
    if holdout is None or holdout == "None":
        return "none"
    if isinstance(holdout, (list, tuple, ListConfig)):
        return "+".join(map(str, holdout))
    return re.sub(r"[\\/:*?\"<>| ]", "_", str(holdout))


def register_resolvers() -> None:
    """Register the project's OmegaConf resolvers (idempotent)."""
    if not OmegaConf.has_resolver("holdout_name"):
        OmegaConf.register_new_resolver("holdout_name", holdout_name)
    if not OmegaConf.has_resolver("project_root"):  # configs/paths/default.yaml
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


def to_container(cfg: DictConfig) -> dict:
    """A resolved plain-dict copy of a config."""
    return OmegaConf.to_container(cfg, resolve=True)


register_resolvers()
