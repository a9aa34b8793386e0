"""Training batches: word-boundary tags padded like the ids, with the special tag."""

from __future__ import annotations

from govreport_ner.model.alignment import IGNORE
from govreport_ner.model.modeling import build_tiny
from govreport_ner.model.word_boundaries import SPECIAL
from govreport_ner.train.collator import WindowCollator

ROWS = [
    {
        "input_ids": [2, 5, 6, 3],
        "attention_mask": [1, 1, 1, 1],
        "labels": [IGNORE, 0, 1, IGNORE],
        "word_tags": [4, 0, 2, 4],
    },
    {"input_ids": [2, 7, 3], "attention_mask": [1, 1, 1], "labels": [IGNORE, 0, IGNORE], "word_tags": [4, 3, 4]},
]


def tokenizer():
    return build_tiny(["明年新建"])[0]


def test_word_tags_are_padded_with_the_special_tag():
    batch = WindowCollator(tokenizer())(ROWS)
    assert batch["input_ids"].shape == batch["word_tags"].shape == (2, 4)
    assert batch["word_tags"].tolist() == [[4, 0, 2, 4], [4, 3, 4, SPECIAL]]
    assert batch["attention_mask"].tolist()[1] == [1, 1, 1, 0] and batch["labels"].tolist()[1][-1] == IGNORE


def test_left_padding_pads_the_tags_on_the_left():
    tok = tokenizer()
    tok.padding_side = "left"
    batch = WindowCollator(tok)(ROWS)
    assert batch["input_ids"].tolist()[1][0] == tok.pad_token_id
    assert batch["word_tags"].tolist()[1] == [SPECIAL, 4, 3, 4]


def test_windows_without_tags_are_collated_as_before():
    rows = [{k: v for k, v in row.items() if k != "word_tags"} for row in ROWS]
    batch = WindowCollator(tokenizer())(rows)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert ROWS[0]["word_tags"] == [4, 0, 2, 4]  # the rows given are not changed
