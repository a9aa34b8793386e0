"""Word-boundary tags from the jieba segmenter: per character, then per token.

Entity boundaries of PROJECT/PROGRAM fall almost always on word boundaries, so a model may
be given, beside each token, where the token sits among the clause's words (jieba, HMM on,
its bundled dictionary):

* a character's position: ``B`` (first of a longer word), ``M`` (inside), ``E`` (last),
  ``S`` (a one-character word);
* a token's tag: whether the token starts a word and whether it ends one, written with the
  same four letters (starts and ends: ``S``; starts only: ``B``; ends only: ``E``;
  neither: ``M``). With one token per character a token's tag is its character's position.

Special tokens (CLS/SEP) and padding get :data:`SPECIAL`; :data:`NUM_WORD_TAGS` ids in all.
The segmenter is a private ``jieba.Tokenizer`` (words added to jieba's global dictionary
elsewhere do not change the tags), loaded once, quietly, under a lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

WORD_TAGS = ("B", "M", "E", "S")
B, M, E, S = range(len(WORD_TAGS))
SPECIAL = len(WORD_TAGS)  # special tokens and padding
NUM_WORD_TAGS = len(WORD_TAGS) + 1

_lock = threading.Lock()
_segmenter = None


def segmenter():
    """The jieba tokenizer used for the tags (its dictionary loaded on first use)."""
    global _segmenter
    with _lock:
        if _segmenter is None:
            import jieba

            quiet = logging.getLogger("jieba")  # jieba.default_logger: "Building prefix dict..." at DEBUG
            level = quiet.level
            quiet.setLevel(logging.WARNING)
            try:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
            finally:
                quiet.setLevel(level)
            _segmenter = tokenizer
    return _segmenter


def char_positions(text: str) -> list[int]:
    """Each character's position in its jieba word (ids of ``B``/``M``/``E``/``S``)."""
    positions: list[int] = []
    for word in segmenter().lcut(text, HMM=True):
        positions += [S] if len(word) == 1 else [B] + [M] * (len(word) - 2) + [E]
    if len(positions) != len(text):  # jieba keeps every character; a failure here is a jieba change
        raise RuntimeError(f"jieba's words cover {len(positions)} characters of a {len(text)}-character text")
    return positions


def token_tags(spans: Sequence[tuple[int, int]], positions: Sequence[int]) -> list[int]:
    """Each token's tag from its character span (``Encoding.spans``); a token without characters is SPECIAL."""
    tags = []
    for start, end in spans:
        if end <= start:
            tags.append(SPECIAL)
            continue
        starts = positions[start] in (B, S)
        ends = positions[end - 1] in (E, S)
        tags.append(S if starts and ends else B if starts else E if ends else M)
    return tags


def clause_token_tags(text: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    """The tokens' tags of one clause (``spans``: the clause encoding's token spans)."""
    return token_tags(spans, char_positions(text))
