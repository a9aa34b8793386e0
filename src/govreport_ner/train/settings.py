"""What a training run is given: plain, typed settings (the ``model``, ``trainer`` and ``data`` groups).

The commands read the Hydra config and build these (:func:`govreport_ner.commands.train.train_run`);
the values themselves live in ``configs/`` only: no field here has a default of its own, except
the tiny model's sizes, which only ``model=tiny`` sets, and ``ensemble_seeds``, which the
``config.yaml`` of runs trained before it existed lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from govreport_ner.data.gold import GoldSettings


@dataclass(frozen=True)
class ModelSettings:
    """The ``model`` group: which encoder, how text becomes tokens, and the output layer."""

    name_or_path: str | None  # hub id or local folder; None for the tiny model
    kind: str  # pretrained | tiny
    max_length: int  # tokens per window
    stride: int  # tokens of overlap between windows
    one_token_per_char: bool
    crf: bool  # a CRF output layer instead of softmax
    word_boundaries: bool  # jieba B/M/E/S tags as an extra input embedding
    hidden_size: int | None = None  # the tiny model's sizes (model=tiny)
    num_hidden_layers: int | None = None
    num_attention_heads: int | None = None
    intermediate_size: int | None = None


@dataclass(frozen=True)
class TrainerSettings:
    """The ``trainer`` group (configs/trainer/default.yaml says what each key does)."""

    epochs: float
    batch_size: int
    eval_batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_ratio: float
    seed: int
    eval_strategy: str
    save_strategy: str
    save_steps: int
    save_total_limit: int | None
    logging_steps: int
    max_steps: int
    group_by_length: bool
    class_weight_o: float
    oversample: dict[str, int] | None
    num_threads: int | None
    tensorboard: bool
    resume: bool
    keep_checkpoints: bool
    ensemble_seeds: list[int] | None = None  # two or more: one model per seed, served as one ensemble


@dataclass(frozen=True)
class SilverSettings:
    """The ``silver`` block of ``configs/train.yaml``: pre-training on silver data (``scripts/silver.py``)."""

    dir: str | None  # a folder of silver records made by this holdout's checkpoint; None: gold only
    mode: str  # pretrain: silver first, then the gold | mix: silver beside the gold (self-training)
    epochs: float  # passes over the silver with mode=pretrain
    open_labels: list[str]  # labels silver's O asserts nothing about (partial labels); []: silver's O is O

    def __post_init__(self):
        if self.mode not in SILVER_MODES:
            raise ValueError(f"silver.mode must be one of {', '.join(SILVER_MODES)}, not {self.mode!r}")


SILVER_MODES = ("pretrain", "mix")


@dataclass(frozen=True)
class TrainRun:
    """One training run: its name, where it writes, the gold, the model and the trainer settings."""

    name: str
    output_dir: Path
    gold: GoldSettings
    model: ModelSettings
    trainer: TrainerSettings
    cross_region: str | None  # a fold summary (loro.json) for the model card's evaluation table
    silver: SilverSettings | None = None  # None: a run configured before silver existed
