"""Building and loading token-classification models: hub ids, local checkpoints, or a tiny BERT.

Hub ids stay the defaults (``bert-base-chinese``); any model path is one override away
(``model.name_or_path=DIR``). When the hub cannot be reached the error says exactly that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from govreport_ner.labels import BIO_TAGS, ID2TAG, TAG2ID

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ALIGNMENT_FILE = "govreport_ner.json"


class ModelLoadError(RuntimeError):
    """A model or tokenizer that cannot be loaded, with what to do about it."""


def _hub_error(name: str, err: Exception) -> ModelLoadError:
    return ModelLoadError(
        f"cannot load {name!r}: it is not a local directory, and the Hugging Face model hub could not be "
        f"reached to download it ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). "
        f"Download the model where the hub is reachable and pass its folder as model.name_or_path=DIR "
        f"(on this project's machines: model.name_or_path=../shared/models/multilingual-e5-small-zh)."
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the model hub's host answers (a fast check before slow download retries)."""
    import os
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def load_pretrained(name_or_path: str, num_labels: int = len(BIO_TAGS)):
    """Tokenizer and token-classification model from a local folder or a hub id."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    if not Path(name_or_path).exists() and not _in_hub_cache(name_or_path) and not hub_reachable():
        raise _hub_error(name_or_path, ConnectionError("the hub host did not answer"))
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        model = AutoModelForTokenClassification.from_pretrained(
            name_or_path,
            num_labels=num_labels,
            id2label=ID2TAG,
            label2id=TAG2ID,
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as err:
        if Path(name_or_path).exists():
            raise ModelLoadError(f"cannot load the model in {name_or_path}: {err}") from err
        raise _hub_error(name_or_path, err) from err
    return tokenizer, model


def _in_hub_cache(name: str) -> bool:
    """Whether a hub model's config is already in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(name, "config.json"), str)


def character_vocabulary(texts: Iterable[str]) -> list[str]:
    """Special tokens followed by every non-space character of the texts, in first-seen order."""
    seen = dict.fromkeys(ch for text in texts for ch in text if not ch.isspace())
    return SPECIAL_TOKENS + [ch for ch in seen if ch not in SPECIAL_TOKENS]


def character_tokenizer(vocab: list[str], split_chinese_chars: bool = True):
    """A BERT-style WordPiece tokenizer over ``vocab`` (built locally, no download).

    With ``split_chinese_chars`` every CJK character is its own word (as in bert-base-chinese);
    without it, runs of characters are matched greedily against the vocabulary, so multi-character
    entries such as 完成 become one token (as in SentencePiece models like e5).
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordPiece({token: i for i, token in enumerate(vocab)}, unk_token="[UNK]"))
    if split_chinese_chars:
        backend.normalizer = normalizers.BertNormalizer(lowercase=False, handle_chinese_chars=True, strip_accents=False)
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    else:
        backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    special = dict(unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    return PreTrainedTokenizerFast(tokenizer_object=backend, **special)


def build_tiny(
    texts: Iterable[str],
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=128,
    max_position_embeddings=512,
    seed: int = 0,
):
    """A small randomly initialised BERT with a character vocabulary built from ``texts``."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    tokenizer = character_tokenizer(character_vocabulary(texts))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        num_labels=len(BIO_TAGS),
        id2label=ID2TAG,
        label2id=TAG2ID,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return tokenizer, BertForTokenClassification(config)


def build_model(model_cfg, train_texts: Iterable[str], seed: int = 0):
    """Tokenizer and model for the ``model`` settings (:class:`govreport_ner.train.settings.ModelSettings`)."""
    if model_cfg.kind == "tiny":
        return build_tiny(
            train_texts,
            hidden_size=model_cfg.hidden_size,
            num_hidden_layers=model_cfg.num_hidden_layers,
            num_attention_heads=model_cfg.num_attention_heads,
            intermediate_size=model_cfg.intermediate_size,
            max_position_embeddings=max(512, model_cfg.max_length),
            seed=seed,
        )
    if not model_cfg.name_or_path:
        raise ModelLoadError("model.name_or_path is empty: give a hub id or a local checkpoint folder")
    return load_pretrained(str(model_cfg.name_or_path))


def save_checkpoint(model, tokenizer, directory: Path | str, alignment: dict) -> Path:
    """Save a checkpoint loadable with ``from_pretrained`` plus the alignment settings.

    A :class:`~govreport_ner.model.word_embedding.WordBoundaryModel` is saved as its classifier
    with the word-boundary vectors beside it, and the settings say ``"word_boundaries": true``.
    """
    from govreport_ner.model.word_embedding import SETTING, WORD_EMBEDDING_FILE, WordBoundaryModel, classifier_of

    directory = Path(directory)
    word_boundaries = isinstance(model, WordBoundaryModel)
    classifier_of(model).save_pretrained(directory)
    if word_boundaries:
        model.save(directory)
    else:
        (directory / WORD_EMBEDDING_FILE).unlink(missing_ok=True)  # from an earlier save into this folder
    alignment = {**alignment, SETTING: word_boundaries}
    tokenizer.save_pretrained(directory)
    (directory / ALIGNMENT_FILE).write_text(json.dumps(alignment, indent=2), encoding="utf-8")
    return directory


def checkpoint_model_dir(checkpoint: Path | str) -> Path:
    """The folder holding ``config.json``: the checkpoint itself or its ``model/`` folder (a training output_dir)."""
    directory = Path(checkpoint)
    return directory / "model" if (directory / "model" / "config.json").exists() else directory


def load_checkpoint(directory: Path | str):
    """(tokenizer, model, alignment settings) of a checkpoint saved by :func:`save_checkpoint`.

    The model is a :class:`~govreport_ner.model.word_embedding.WordBoundaryModel` when the
    settings say ``"word_boundaries": true``.
    """
    from govreport_ner.model.word_embedding import SETTING, load_word_boundary_model

    directory = checkpoint_model_dir(directory)
    if not (directory / "config.json").exists():
        raise ModelLoadError(f"{directory} is not a checkpoint folder (no config.json)")
    tokenizer, model = load_pretrained(str(directory))
    settings_file = directory / ALIGNMENT_FILE
    settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
    model.eval()
    if settings.get(SETTING):
        try:
            model = load_word_boundary_model(model, directory)
        except (OSError, ValueError) as err:
            raise ModelLoadError(f"cannot load the model in {directory}: {err}") from err
    return tokenizer, model, settings
