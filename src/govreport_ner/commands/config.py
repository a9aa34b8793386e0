"""Hydra/OmegaConf helpers of the commands: the config folder, the project root, the resolvers,
and the adapters from config groups to the plain settings of the stages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig, ListConfig, OmegaConf

if TYPE_CHECKING:
    from govreport_ner.data.gold import GoldSettings

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


def gold_settings(data_cfg: DictConfig, **changes) -> GoldSettings:
    """The ``data`` config group as :class:`~govreport_ner.data.gold.GoldSettings`; ``changes``
    replace some of its values (``holdout=...``, ``folds=...``).

    ``train/trainer.py`` still passes ``cfg.data`` itself to ``load_gold_dataset`` and
    ``resolve_holdout`` (the DictConfig has the same keys); it is to call this adapter instead.
    """
    from dataclasses import fields

    from govreport_ner.data.gold import GoldSettings

    values = {f.name: data_cfg[f.name] for f in fields(GoldSettings)}
    values.update(changes)
    holdout = values["holdout"]
    if isinstance(holdout, ListConfig):
        values["holdout"] = [str(name) for name in holdout]
    return GoldSettings(**values)


register_resolvers()
