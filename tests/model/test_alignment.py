"""Label alignment between characters and tokens, for single- and multi-character tokenizers."""

import pytest
from helpers import multichar_tokenizer, span_of

from govreport_ner.labels import ID2TAG
from govreport_ner.model.alignment import IGNORE, CharAligner
from govreport_ner.model.modeling import build_tiny
from govreport_ner.spans import bio_to_spans, spans_to_bio

TEXT = "完成新造林1.8万亩，打好蓝天保卫战。"
SPANS = [span_of(TEXT, "1.8万", "QUANTITY"), span_of(TEXT, "亩", "UNIT"), span_of(TEXT, "蓝天保卫战", "PROGRAM")]


def round_trip(aligner: CharAligner, text: str, spans) -> list:
    """gold chars -> token labels -> (windows -> merge) -> chars -> spans."""
    tags = spans_to_bio(len(text), spans)
    encoding = aligner.encode(text)
    labels = aligner.token_labels(encoding, tags)
    windows = aligner.windows(encoding, labels)
    outputs = [[ID2TAG[x] if x != IGNORE else "O" for x in w.labels] for w in windows]
    merged = aligner.merge(windows, outputs, len(encoding.ids))
    char_tags, _ = aligner.project(encoding, merged, len(text))
    return bio_to_spans(text, char_tags)


@pytest.fixture(scope="module")
def char_tokenizer():
    tokenizer, _ = build_tiny([TEXT])
    return tokenizer


@pytest.fixture(scope="module")
def subword_tokenizer():
    return multichar_tokenizer([TEXT])


def test_single_character_tokenizer_round_trips(char_tokenizer):
    aligner = CharAligner(char_tokenizer, one_token_per_char=True, max_length=64)
    assert round_trip(aligner, TEXT, SPANS) == sorted(SPANS)


def test_multichar_tokens_are_really_multichar(subword_tokenizer):
    encoding = CharAligner(subword_tokenizer).encode(TEXT)
    widths = [e - s for s, e in encoding.spans]
    assert max(widths) >= 2 and len(encoding.ids) < len(TEXT)
    assert [TEXT[s:e] for s, e in encoding.spans][:3] == ["完成", "新造林", "1.8"]


def test_subword_mode_round_trips_when_boundaries_fall_between_tokens(subword_tokenizer):
    text = "完成新造林1.8万亩"
    spans = [span_of(text, "新造林", "PROGRAM"), span_of(text, "1.8", "QUANTITY")]
    aligner = CharAligner(subword_tokenizer, max_length=64)
    assert aligner.boundary_loss(aligner.encode(text), spans_to_bio(len(text), spans)) == 0
    assert round_trip(aligner, text, spans) == sorted(spans)


def test_numbers_magnitudes_and_percent_signs_get_their_own_tokens(subword_tokenizer):
    # "万亩" is one token of this tokenizer, but QUANTITY ends after 万 and UNIT starts at 亩:
    # the subword encoding tokenizes numbers, magnitudes and % apart, so the boundary survives.
    aligner = CharAligner(subword_tokenizer, max_length=64)
    encoding = aligner.encode(TEXT)
    assert [TEXT[s:e] for s, e in encoding.spans][2:5] == ["1.8", "万", "亩"]
    assert aligner.boundary_loss(encoding, spans_to_bio(len(TEXT), SPANS)) == 0
    assert round_trip(aligner, TEXT, SPANS) == sorted(SPANS)


def test_boundary_inside_a_token_is_lost_by_subwords_and_kept_per_character(subword_tokenizer):
    # "新造林" is one token, but the entity is 造林 (its start falls inside the token).
    spans = [span_of(TEXT, "造林", "PROJECT"), span_of(TEXT, "蓝天保卫战", "PROGRAM")]
    aligner = CharAligner(subword_tokenizer, max_length=64)
    assert aligner.boundary_loss(aligner.encode(TEXT), spans_to_bio(len(TEXT), spans)) == 1
    assert round_trip(aligner, TEXT, spans) != sorted(spans)

    per_char = CharAligner(subword_tokenizer, one_token_per_char=True, max_length=64)
    encoding = per_char.encode(TEXT)
    assert all(e - s == 1 for s, e in encoding.spans)
    assert round_trip(per_char, TEXT, spans) == sorted(spans)


def test_whitespace_and_crlf_are_never_tokens_but_offsets_survive(char_tokenizer):
    text = "完成 新造林\r\n1.8万亩"
    spans = [span_of(text, "1.8万", "QUANTITY"), span_of(text, "亩", "UNIT")]
    aligner = CharAligner(build_tiny([text])[0], one_token_per_char=True, max_length=64)
    assert round_trip(aligner, text, spans) == sorted(spans)


@pytest.mark.parametrize("max_length,stride", [(8, 2), (10, 3), (16, 7), (64, 8)])
def test_long_clauses_are_windowed_and_merged_without_loss(char_tokenizer, max_length, stride):
    text = TEXT * 6
    spans = [span_of(text, "1.8万", "QUANTITY", n) for n in range(6)] + [
        span_of(text, "蓝天保卫战", "PROGRAM", n) for n in range(6)
    ]
    aligner = CharAligner(build_tiny([text])[0], one_token_per_char=True, max_length=max_length, stride=stride)
    encoding = aligner.encode(text)
    windows = aligner.windows(encoding)
    assert all(len(w.input_ids) <= max_length for w in windows)
    covered = sorted({t for w in windows for t in range(w.first, w.last)})
    assert covered == list(range(len(encoding.ids)))
    assert round_trip(aligner, text, spans) == sorted(spans)


def test_tiny_character_vocabulary_has_every_character():
    tokenizer, model = build_tiny([TEXT])
    aligner = CharAligner(tokenizer, one_token_per_char=True)
    assert tokenizer.unk_token_id not in aligner.encode(TEXT).ids
    assert model.config.num_labels == len(ID2TAG)
