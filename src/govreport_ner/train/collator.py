"""Batches of training windows: the token-classification collator, plus word-boundary tags.

``DataCollatorForTokenClassification`` pads ``input_ids``, ``attention_mask`` and ``labels``
but not other columns; :class:`WindowCollator` pads a ``word_tags`` column (when the windows
have one) to the same width, on the tokenizer's padding side, with the special tag.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from govreport_ner.model.word_boundaries import SPECIAL


class WindowCollator:
    """Pads a batch of windows (``encode_windows`` rows) into tensors."""

    def __init__(self, tokenizer):
        from transformers import DataCollatorForTokenClassification

        self.base = DataCollatorForTokenClassification(tokenizer)
        self.pad_left = tokenizer.padding_side == "left"

    def __call__(self, features: Sequence[dict]) -> dict:
        if not features or "word_tags" not in features[0]:
            return self.base(list(features))
        batch = self.base([{k: v for k, v in f.items() if k != "word_tags"} for f in features])
        width = batch["input_ids"].shape[1]
        rows = []
        for feature in features:
            tags = list(feature["word_tags"])
            padding = [SPECIAL] * (width - len(tags))
            rows.append(padding + tags if self.pad_left else tags + padding)
        batch["word_tags"] = torch.tensor(rows, dtype=torch.long)
        return batch
