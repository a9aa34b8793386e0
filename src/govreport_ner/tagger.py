"""A loaded token classifier that tags clauses: windows in, character spans out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from .alignment import CharAligner, Encoding, Window
from .labels import ID2TAG
from .modeling import load_checkpoint
from .spans import Span, bio_to_spans


class Tagger:
    """Tags clause texts with a token-classification model, character-exact."""

    def __init__(self, model, tokenizer, aligner: CharAligner, model_version: str = "model"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.aligner = aligner
        self.model_version = model_version
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @classmethod
    def from_checkpoint(cls, directory: Path | str) -> Tagger:
        """Load a checkpoint written by training (``output_dir`` or its ``model/`` folder)."""
        tokenizer, model, settings = load_checkpoint(directory)
        aligner = CharAligner(
            tokenizer,
            one_token_per_char=settings.get("one_token_per_char", False),
            max_length=settings.get("max_length", 256),
            stride=settings.get("stride", 32),
        )
        return cls(model, tokenizer, aligner, settings.get("model_version", Path(directory).name))

    def _run(self, windows: Sequence[Window]) -> list[tuple[list[str], list[float]]]:
        """Tags and probabilities for each window (padded into one batch)."""
        width = max(len(w.input_ids) for w in windows)
        ids = torch.full((len(windows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(windows), width), dtype=torch.long)
        for row, window in enumerate(windows):
            ids[row, : len(window.input_ids)] = torch.tensor(window.input_ids)
            mask[row, : len(window.input_ids)] = 1
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask).logits
        probs, best = logits.softmax(-1).max(-1)
        return [([ID2TAG[int(i)] for i in best[r]], probs[r].tolist()) for r in range(len(windows))]

    def predict_clauses(self, texts: Sequence[str], batch_size: int = 32) -> list[list[Span]]:
        """Spans (clause-local offsets, with scores) for each clause text.

        Windows of all clauses are sorted by length and batched together, so short clauses
        are not padded to the longest one.
        """
        encodings: list[Encoding] = [self.aligner.encode(t) for t in texts]
        jobs = [(c, w) for c, enc in enumerate(encodings) if enc.ids for w in self.aligner.windows(enc)]
        jobs.sort(key=lambda job: len(job[1].input_ids))
        outputs: dict[int, list] = {c: [] for c in range(len(texts))}
        for i in range(0, len(jobs), batch_size):
            batch = jobs[i : i + batch_size]
            for (c, window), out in zip(batch, self._run([w for _, w in batch]), strict=True):
                outputs[c].append((window, out))
        results = []
        for c, (text, enc) in enumerate(zip(texts, encodings, strict=True)):
            if not enc.ids:
                results.append([])
                continue
            pairs = sorted(outputs[c], key=lambda p: p[0].first)
            merged = self.aligner.merge(
                [w for w, _ in pairs], [list(zip(*o, strict=True)) for _, o in pairs], len(enc.ids)
            )
            tags, scores = self.aligner.project(enc, [m[0] for m in merged], len(text), [m[1] for m in merged])
            results.append(bio_to_spans(text, tags, scores))
        return results

    def predict_spans(self, text: str, max_chars: int | None = 200) -> list[Span]:
        """Spans of a whole document (document offsets), clause by clause."""
        from .segment import segment

        clauses = segment(text, max_chars)
        per_clause = self.predict_clauses([c.text for c in clauses])
        return [s.shifted(c.start) for c, spans in zip(clauses, per_clause, strict=True) for s in spans]
