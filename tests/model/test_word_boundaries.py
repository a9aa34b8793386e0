"""Word-boundary tags: jieba's words as B/M/E/S per character, per token, and in windows."""

from __future__ import annotations

import threading

import pytest
from helpers import multichar_tokenizer

from govreport_ner.model.alignment import CharAligner
from govreport_ner.model.modeling import build_tiny
from govreport_ner.model.word_boundaries import (
    NUM_WORD_TAGS,
    SPECIAL,
    WORD_TAGS,
    char_positions,
    clause_token_tags,
    segmenter,
    token_tags,
)

# Hand-written; jieba (0.42.1, HMM): 明年|新建|污水|处理厂|两座|，|打|好|蓝天|保卫战|。
SENTENCE = "明年新建污水处理厂两座，打好蓝天保卫战。"
SENTENCE_POSITIONS = "BE|BE|BE|BME|BE|S|S|S|BE|BME|S".replace("|", "")
# 完成|新|造林|1.8|万亩|，|打|好|蓝天|保卫战|。
SUBWORD_TEXT = "完成新造林1.8万亩，打好蓝天保卫战。"


def letters(ids) -> str:
    return "".join(WORD_TAGS[i] if i != SPECIAL else "_" for i in ids)


def test_five_ids():
    assert NUM_WORD_TAGS == 5 and SPECIAL == 4 and WORD_TAGS == ("B", "M", "E", "S")


def test_char_positions_of_a_known_sentence():
    assert letters(char_positions(SENTENCE)) == SENTENCE_POSITIONS


def test_every_character_is_covered_including_spaces_and_line_breaks():
    text = "推进 智慧城市\r\n建设𠮷祥路"
    positions = char_positions(text)
    assert len(positions) == len(text)
    assert positions[2] == WORD_TAGS.index("S")  # the space is a word of its own
    assert char_positions("") == []


def test_the_same_text_gets_the_same_tags_and_the_segmenter_loads_once():
    first = segmenter()
    results = []
    threads = [threading.Thread(target=lambda: results.append(char_positions(SENTENCE))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert segmenter() is first
    assert all(letters(r) == SENTENCE_POSITIONS for r in results)


def test_words_added_to_jiebas_global_dictionary_do_not_change_the_tags():
    import jieba

    jieba.add_word("新建污水")
    try:
        assert letters(char_positions(SENTENCE)) == SENTENCE_POSITIONS
    finally:
        jieba.del_word("新建污水")


def test_token_tags_say_whether_a_token_starts_and_ends_a_word():
    # chars B E | S | B M E ; tokens: [0,2) a word; [2,3) a word; [3,4) starts; [4,5) inside; [5,6) ends; [3,6)
    positions = [WORD_TAGS.index(c) for c in "BESBME"]
    spans = [(0, 2), (2, 3), (3, 4), (4, 5), (5, 6), (3, 6), (0, 3), (1, 2), (2, 2)]
    assert letters(token_tags(spans, positions)) == "SSBMESSE_"


@pytest.fixture(scope="module")
def char_aligner():
    tokenizer, _ = build_tiny([SENTENCE])
    return CharAligner(tokenizer, one_token_per_char=True, max_length=64)


def test_one_token_per_char_gives_the_char_positions(char_aligner):
    text = "明年 新建污水处理厂"
    encoding = char_aligner.encode(text)
    positions = char_positions(text)
    assert clause_token_tags(text, encoding.spans) == [positions[s] for s, _ in encoding.spans]
    assert letters(clause_token_tags(SENTENCE, char_aligner.encode(SENTENCE).spans)) == SENTENCE_POSITIONS


def test_subword_tokens_spanning_several_words_or_part_of_one():
    aligner = CharAligner(multichar_tokenizer([SUBWORD_TEXT]), max_length=64)
    encoding = aligner.encode(SUBWORD_TEXT)
    pieces = [SUBWORD_TEXT[s:e] for s, e in encoding.spans]
    assert pieces == ["完成", "新造林", "1.8", "万", "亩", "，", "打", "好", "蓝天", "保卫战", "。"]
    # 新造林 covers 新|造林 (starts and ends words: S); 万 starts 万亩, 亩 ends it
    assert letters(clause_token_tags(SUBWORD_TEXT, encoding.spans)) == "SSSBESSSSSS"


def test_windows_cut_word_tags_as_ids_with_special_tags_around(char_aligner):
    aligner = CharAligner(char_aligner.tokenizer, one_token_per_char=True, max_length=10, stride=2)
    text = SENTENCE * 2
    encoding = aligner.encode(text)
    tags = clause_token_tags(text, encoding.spans)
    windows = aligner.windows(encoding, word_tags=tags)
    assert len(windows) > 2
    for window in windows:
        assert len(window.word_tags) == len(window.input_ids)
        assert window.word_tags[0] == window.word_tags[-1] == SPECIAL
        assert window.word_tags[1:-1] == tags[window.first : window.last]
    assert aligner.windows(encoding)[0].word_tags == []  # not asked: none
