"""``scripts/train.py``: fine-tune a token classifier on the gold of ``data`` (see :mod:`govreport_ner.train`)."""

from __future__ import annotations

from omegaconf import DictConfig

from govreport_ner.train.trainer import train


def train_command(cfg: DictConfig) -> dict:
    """Train, evaluate on the held-out regions, write the checkpoint and reports; the metrics."""
    return train(cfg)
