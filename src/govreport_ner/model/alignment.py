"""Character <-> token alignment, for single-character and multi-character tokenizers.

Gold lives on characters; models see tokens. Two encodings are offered:

* ``subword`` (default): the tokenizer's own tokens with their character offsets, with
  numbers, magnitude characters and percent signs tokenized apart from their neighbours so
  that QUANTITY/UNIT boundaries fall between tokens. A token is trained on the tag of its
  first character; predictions are projected back by giving a
  token's tag to its first character and the matching ``I-`` tag to the rest. An entity
  boundary inside a multi-character token cannot be represented (``boundary_loss`` counts
  such cases).
* ``one_token_per_char``: each non-space character is one token (its own vocabulary entry,
  or the tokenizer's piece for it), so every boundary is representable; sequences are longer.

Clauses longer than the model window are cut into overlapping windows; each token's
prediction is taken from the window in which it sits farthest from an edge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from govreport_ner.labels import TAG2ID
from govreport_ner.model.word_boundaries import SPECIAL as SPECIAL_WORD_TAG

IGNORE = -100
# Subword mode tokenizes these pieces separately, so that a number, its magnitude (万/亿) and a
# percent sign never share a token with their neighbours ("95%" -> 95 | %, "2000万元" -> 2000 | 万 | 元)
# and the QUANTITY/UNIT boundaries they carry stay representable; Chinese words keep their subwords.
NUMBER_SPLIT_RE = re.compile(r"\d+(?:[.,]\d+)*|[%％‰万亿千百]|[^\d%％‰万亿千百]+")


@dataclass
class Encoding:
    """Tokens of one clause: ``ids[i]`` covers characters ``spans[i]`` (empty span = no character)."""

    ids: list[int]
    spans: list[tuple[int, int]]


@dataclass
class Window:
    """One model input: tokens ``[first, last)`` of an encoding, with special tokens around them.

    ``word_tags`` (one per input id) are given only for a model with the word-boundary feature
    (:mod:`govreport_ner.model.word_boundaries`).
    """

    first: int
    last: int
    input_ids: list[int]
    labels: list[int] = field(default_factory=list)
    word_tags: list[int] = field(default_factory=list)


def _first_not_none(*values):
    for value in values:
        if value is not None:
            return value
    raise ValueError("the tokenizer has neither a CLS/BOS nor a SEP/EOS token")


class CharAligner:
    """Encodes clauses for a tokenizer and maps labels between characters and tokens."""

    def __init__(self, tokenizer, one_token_per_char: bool = False, max_length: int = 256, stride: int = 32):
        if max_length < 8:
            raise ValueError("max_length must leave room for tokens besides the special ones")
        self.tokenizer = tokenizer
        self.one_token_per_char = one_token_per_char
        self.window = max_length - 2  # room for CLS/BOS and SEP/EOS
        self.stride = min(stride, self.window // 2)
        self._char_ids: dict[str, int] = {}
        self.first_id = _first_not_none(tokenizer.cls_token_id, tokenizer.bos_token_id)
        self.last_id = _first_not_none(tokenizer.sep_token_id, tokenizer.eos_token_id)

    # ------------------------------------------------------------------ encoding
    def encode(self, text: str) -> Encoding:
        """Tokens and their character spans for one clause."""
        return self._encode_chars(text) if self.one_token_per_char else self._encode_subwords(text)

    def _encode_subwords(self, text: str) -> Encoding:
        ids, spans = [], []
        for match in NUMBER_SPLIT_RE.finditer(text):
            piece = self._encode_piece(match.group())
            ids += piece.ids
            spans += [(s + match.start(), e + match.start()) for s, e in piece.spans]
        return Encoding(ids, spans)

    def _encode_piece(self, text: str) -> Encoding:
        """Subword tokens of one piece; bare word-start markers ("▁", no character) are dropped."""
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = [tuple(o) for o in enc["offset_mapping"]]
        ids, spans, prev_end = [], [], 0
        for i, (s, e) in enumerate(offsets):
            nxt = offsets[i + 1][0] if i + 1 < len(offsets) else None
            if (nxt is not None and s == nxt and e > nxt) or e <= max(s, prev_end):
                continue  # a marker claiming the next token's character, or a token with no character
            ids.append(enc["input_ids"][i])
            spans.append((max(s, prev_end), e))
            prev_end = e
        return Encoding(ids, spans)

    def _char_id(self, ch: str) -> int:
        if ch not in self._char_ids:
            vocab_id = self.tokenizer.convert_tokens_to_ids(ch)
            if vocab_id is None or vocab_id == self.tokenizer.unk_token_id:
                pieces = [p for p in self.tokenizer(ch, add_special_tokens=False)["input_ids"]]
                markers = {self.tokenizer.convert_tokens_to_ids("▁")}
                pieces = [p for p in pieces if p not in markers] or [self.tokenizer.unk_token_id]
                vocab_id = pieces[-1]
            self._char_ids[ch] = vocab_id
        return self._char_ids[ch]

    def _encode_chars(self, text: str) -> Encoding:
        positions = [i for i, ch in enumerate(text) if not ch.isspace()]
        return Encoding([self._char_id(text[i]) for i in positions], [(i, i + 1) for i in positions])

    # ------------------------------------------------------------------ labels
    @staticmethod
    def token_labels(encoding: Encoding, char_tags: Sequence[str]) -> list[int]:
        """Training labels: a token takes its first character's tag; empty tokens are ignored."""
        return [TAG2ID[char_tags[s]] if e > s else IGNORE for s, e in encoding.spans]

    @staticmethod
    def project(encoding: Encoding, token_tags: Sequence[str], n_chars: int, token_scores=None):
        """Character tags (and scores) from token tags: first character keeps the tag, the rest continue it."""
        tags, scores = ["O"] * n_chars, [1.0] * n_chars
        for i, (s, e) in enumerate(encoding.spans):
            if e <= s:
                continue
            tag = token_tags[i]
            tags[s] = tag
            inner = "I-" + tag[2:] if tag != "O" else "O"
            for c in range(s + 1, e):
                tags[c] = inner
            if token_scores is not None:
                for c in range(s, e):
                    scores[c] = float(token_scores[i])
        return tags, scores

    @staticmethod
    def boundary_loss(encoding: Encoding, char_tags: Sequence[str]) -> int:
        """How many entity starts and ends fall strictly inside a token (unrepresentable)."""
        lost = 0
        for s, e in encoding.spans:
            for c in range(s + 1, e):
                previous, tag = char_tags[c - 1], char_tags[c]
                starts = tag.startswith("B-")
                ends = previous != "O" and tag != "I-" + previous[2:]
                lost += int(starts) + int(ends)
        return lost

    # ------------------------------------------------------------------ windows
    def windows(
        self, encoding: Encoding, token_labels: Sequence[int] | None = None, word_tags: Sequence[int] | None = None
    ) -> list[Window]:
        """Overlapping windows over the tokens, each wrapped in the model's special tokens.

        ``token_labels`` and ``word_tags`` (one per token) are cut the same way as the ids.
        """
        n, size, step = len(encoding.ids), self.window, self.window - self.stride
        starts = list(range(0, max(n - self.stride, 1), step)) if n > size else [0]
        out = []
        for first in starts:
            last = min(first + size, n)
            ids = [self.first_id, *encoding.ids[first:last], self.last_id]
            window = Window(first, last, ids)
            if token_labels is not None:
                window.labels = [IGNORE] + list(token_labels[first:last]) + [IGNORE] * (len(ids) - (last - first) - 1)
            if word_tags is not None:
                window.word_tags = [SPECIAL_WORD_TAG, *word_tags[first:last], SPECIAL_WORD_TAG]
            out.append(window)
            if last == n:
                break
        return out

    @staticmethod
    def merge(windows: Sequence[Window], window_outputs: Sequence[Sequence], n_tokens: int) -> list:
        """Per-token outputs from overlapping windows: each token from the window where it is most central."""
        merged: list = [None] * n_tokens
        best = [-1] * n_tokens
        for window, outputs in zip(windows, window_outputs, strict=True):
            for t in range(window.first, window.last):
                margin = min(t - window.first, window.last - 1 - t)
                if margin > best[t]:
                    best[t], merged[t] = margin, outputs[t - window.first + 1]  # +1 skips CLS
        return merged
