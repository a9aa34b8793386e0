"""The word-boundary input embedding: starts as the plain model, saved beside the checkpoint, loaded back."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from govreport_ner.model.modeling import ALIGNMENT_FILE, ModelLoadError, build_tiny, load_checkpoint, save_checkpoint
from govreport_ner.model.tagger import Tagger
from govreport_ner.model.word_boundaries import NUM_WORD_TAGS, SPECIAL
from govreport_ner.model.word_embedding import WORD_EMBEDDING_FILE, WordBoundaryModel

TEXT = "明年新建污水处理厂两座，打好蓝天保卫战。年底前完成老旧小区改造3000户。"
ALIGNMENT = {"one_token_per_char": True, "max_length": 16, "stride": 4, "model_version": "tiny-words"}


def tiny():
    return build_tiny([TEXT], hidden_size=32, intermediate_size=64, seed=3)


def batch(tokenizer):
    """[CLS] 新建污水处理厂 [SEP] with its tags: _ B E B E B M E _"""
    ids = torch.tensor([tokenizer.convert_tokens_to_ids(["[CLS]", *"新建污水处理厂", "[SEP]"])])
    tags = torch.tensor([[SPECIAL, 0, 2, 0, 2, 0, 1, 2, SPECIAL]])
    return ids, torch.ones_like(ids), tags


def with_random_vectors(model) -> WordBoundaryModel:
    torch.manual_seed(0)
    return WordBoundaryModel(model, torch.randn(NUM_WORD_TAGS, model.config.hidden_size) * 3).eval()


def test_vectors_start_at_zero_so_the_model_starts_as_the_plain_one():
    tokenizer, model = tiny()
    model.eval()
    wrapped = WordBoundaryModel(model).eval()
    ids, mask, tags = batch(tokenizer)
    assert wrapped.word_embedding.weight.shape == (NUM_WORD_TAGS, 32)
    assert not wrapped.word_embedding.weight.any()
    with torch.inference_mode():
        plain = model(input_ids=ids, attention_mask=mask).logits
        assert torch.equal(wrapped(input_ids=ids, attention_mask=mask, word_tags=tags).logits, plain)
        moved = with_random_vectors(model)(input_ids=ids, attention_mask=mask, word_tags=tags).logits
    assert not torch.allclose(moved, plain)  # the tags reach the encoder


def test_forward_needs_the_tags():
    tokenizer, model = tiny()
    ids, mask, _ = batch(tokenizer)
    with pytest.raises(ValueError, match="word_tags"):
        WordBoundaryModel(model)(input_ids=ids, attention_mask=mask)


def test_gradients_reach_the_vectors_and_labels_give_a_loss():
    tokenizer, model = tiny()
    wrapped = WordBoundaryModel(model)
    ids, mask, tags = batch(tokenizer)
    out = wrapped(input_ids=ids, attention_mask=mask, word_tags=tags, labels=torch.zeros_like(ids))
    out.loss.backward()
    grad = wrapped.word_embedding.weight.grad
    assert grad is not None and grad[[0, 1, 2, SPECIAL]].abs().sum(-1).all() and not grad[3].any()


def test_checkpoint_round_trip_keeps_the_vectors(tmp_path):
    tokenizer, model = tiny()
    wrapped = with_random_vectors(model)
    save_checkpoint(wrapped, tokenizer, tmp_path, ALIGNMENT)
    assert (tmp_path / WORD_EMBEDDING_FILE).is_file()
    assert json.loads((tmp_path / ALIGNMENT_FILE).read_text())["word_boundaries"] is True
    with safe_open(
        str(tmp_path / "model.safetensors"), "pt"
    ) as saved:  # the classifier alone, as from_pretrained wants
        assert all(key.startswith(("bert.", "classifier.")) for key in saved.keys())  # noqa: SIM118
    _, loaded, settings = load_checkpoint(tmp_path)
    assert isinstance(loaded, WordBoundaryModel) and not loaded.training
    assert torch.equal(loaded.word_embedding.weight, wrapped.word_embedding.weight)
    ids, mask, tags = batch(tokenizer)
    with torch.inference_mode():
        expected = wrapped(input_ids=ids, attention_mask=mask, word_tags=tags).logits
        assert torch.allclose(loaded(input_ids=ids, attention_mask=mask, word_tags=tags).logits, expected, atol=1e-6)
    tagger = Tagger.from_checkpoint(tmp_path)
    assert tagger.word_boundaries
    spans = tagger.predict_clauses([TEXT, "", " "])
    assert spans[1:] == [[], []] and all(0 <= s.start < s.end <= len(TEXT) for s in spans[0])


def test_a_checkpoint_without_the_feature_loads_as_before(tmp_path):
    tokenizer, model = tiny()
    save_checkpoint(with_random_vectors(model), tokenizer, tmp_path, ALIGNMENT)
    save_checkpoint(model, tokenizer, tmp_path, ALIGNMENT)  # the same folder, now a plain model
    assert not (tmp_path / WORD_EMBEDDING_FILE).exists()
    assert json.loads((tmp_path / ALIGNMENT_FILE).read_text())["word_boundaries"] is False
    _, loaded, _ = load_checkpoint(tmp_path)
    assert not isinstance(loaded, WordBoundaryModel)
    tagger = Tagger.from_checkpoint(tmp_path)
    assert not tagger.word_boundaries
    assert set(tagger._pad(tagger.aligner.windows(tagger.aligner.encode(TEXT)))) == {"input_ids", "attention_mask"}
    # an older checkpoint, whose settings have no word_boundaries key at all
    settings = json.loads((tmp_path / ALIGNMENT_FILE).read_text())
    del settings["word_boundaries"]
    (tmp_path / ALIGNMENT_FILE).write_text(json.dumps(settings))
    assert not Tagger.from_checkpoint(tmp_path).word_boundaries


def test_the_flag_without_the_vectors_is_a_load_error(tmp_path):
    tokenizer, model = tiny()
    save_checkpoint(with_random_vectors(model), tokenizer, tmp_path, ALIGNMENT)
    (tmp_path / WORD_EMBEDDING_FILE).unlink()
    with pytest.raises(ModelLoadError, match="word_boundaries.safetensors is missing"):
        load_checkpoint(tmp_path)


def test_tagger_feeds_tags_cut_like_the_windows(tmp_path):
    tokenizer, model = tiny()
    tagger = Tagger(with_random_vectors(model), tokenizer, _aligner(tokenizer))
    encoding = tagger.aligner.encode(TEXT)
    windows = tagger.aligner.windows(encoding, word_tags=tagger._word_tags(TEXT, encoding.spans))
    inputs = tagger._pad(windows)
    assert inputs["word_tags"].shape == inputs["input_ids"].shape
    for row, window in enumerate(windows):
        n = len(window.input_ids)
        assert inputs["word_tags"][row, :n].tolist() == window.word_tags
        assert (inputs["word_tags"][row, n:] == SPECIAL).all()


def _aligner(tokenizer):
    from govreport_ner.model.alignment import CharAligner

    return CharAligner(tokenizer, one_token_per_char=True, max_length=16, stride=4)
