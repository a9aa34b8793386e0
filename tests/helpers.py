"""Test helpers: a local multi-character tokenizer and span lookup by substring."""

from __future__ import annotations

from pathlib import Path

from govreport_ner.spans import Span

ROOT = Path(__file__).resolve().parents[1]


def multichar_tokenizer(texts, pieces=("完成", "新造林", "万亩", "1.8", "保卫战", "蓝天")):
    """A WordPiece tokenizer built here, whose tokens often span several characters (like XLM-R/e5)."""
    from govreport_ner.model.modeling import SPECIAL_TOKENS, character_tokenizer

    chars = sorted({ch for text in texts for ch in text if not ch.isspace()})
    vocab = SPECIAL_TOKENS + chars + [f"##{c}" for c in chars] + list(pieces) + [f"##{p}" for p in pieces]
    return character_tokenizer(list(dict.fromkeys(vocab)), split_chinese_chars=False)


def span_of(text: str, piece: str, label: str, nth: int = 0) -> Span:
    """The span of the ``nth`` occurrence of ``piece`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(piece, start + 1)
    return Span(start, start + len(piece), label, piece)


def labelstudio_api():
    """The ``api`` settings of ``configs/labelstudio.yaml`` (what the commands pass to the client)."""
    from pathlib import Path

    from omegaconf import OmegaConf

    from govreport_ner.labelstudio import ApiSettings

    config = Path(__file__).resolve().parents[1] / "configs" / "labelstudio.yaml"
    return ApiSettings(**OmegaConf.to_container(OmegaConf.load(config).api))


def compose_train(overrides: list[str]):
    """The composed ``train`` config of these overrides (Hydra's own keys resolved, then dropped)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from govreport_ner.commands.config import CONFIG_DIR

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]
        return cfg


def seed_gold_holding_out_dongxing(output_dir) -> list[str]:
    """Overrides: train on the committed seed gold, hold out 东兴市, write to ``output_dir``."""
    return [
        "data.holdout=dongxing",
        f"data.gold={ROOT / 'annotations' / 'gold'}",
        f"data.seed_dir={ROOT / 'seeds'}",
        f"output_dir={output_dir}",
    ]
