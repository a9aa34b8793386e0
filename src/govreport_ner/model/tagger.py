"""A loaded token classifier that tags clauses: windows in, character spans out.

Windows of all clauses given (from many documents) are sorted by length and cut into
batches of at most ``batch_size`` windows and ``max_tokens`` padded tokens, so short clauses
go in large batches and long ones in small batches. ``_logits`` is the one method an engine
(ONNX Runtime, see :mod:`govreport_ner.model.onnx`) overrides; it gets the padded batch as
named arrays: ``input_ids``, ``attention_mask`` and, for a model with the word-boundary
feature (``word_boundaries``), ``word_tags``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from govreport_ner.labels import ID2TAG
from govreport_ner.model.alignment import CharAligner, Window
from govreport_ner.model.crf import CrfScores, viterbi
from govreport_ner.model.modeling import checkpoint_model_dir, load_checkpoint
from govreport_ner.model.word_boundaries import SPECIAL, clause_token_tags
from govreport_ner.model.word_embedding import WordBoundaryModel
from govreport_ner.spans import Span, bio_to_spans
from govreport_ner.text.segment import DEFAULT_MAX_CHARS, segment

DEFAULT_BATCH_SIZE = 64
DEFAULT_MAX_TOKENS = 2048
TAG_NAMES = [ID2TAG[i] for i in range(len(ID2TAG))]


def batch_windows(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[tuple[int, int]]:
    """``[start, end)`` batches over windows sorted by length (ascending).

    A batch holds at most ``batch_size`` windows and at most ``max_tokens`` padded tokens
    (rows x longest row), but always at least one window.
    """
    batches, start = [], 0
    while start < len(lengths):
        end = start + 1
        while end < len(lengths) and end - start < batch_size and (end - start + 1) * lengths[end] <= max_tokens:
            end += 1
        batches.append((start, end))
        start = end
    return batches


def pad_windows(windows: Sequence[Window], pad_id: int, word_boundaries: bool) -> dict[str, np.ndarray]:
    """Model inputs of a batch of windows, padded on the right: ``input_ids``, ``attention_mask``,
    and ``word_tags`` (padded with the special tag) for a model with the word-boundary feature."""
    width = max(len(w.input_ids) for w in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    tags = np.full((len(windows), width), SPECIAL, dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window.input_ids)] = window.input_ids
        mask[row, : len(window.input_ids)] = 1
        tags[row, : len(window.word_tags)] = window.word_tags
    inputs = {"input_ids": ids, "attention_mask": mask}
    if word_boundaries:
        inputs["word_tags"] = tags
    return inputs


class Tagger:
    """Tags clause texts with a token-classification model, character-exact."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    on_batch: Callable[[int, int], None] | None = None  # called with (tokens done, tokens in all) per batch
    word_boundaries: bool = False  # the model takes word-boundary tags (computed here with jieba)

    def __init__(
        self, model, tokenizer, aligner: CharAligner, model_version: str = "model", crf: CrfScores | None = None
    ):
        self.model = model.eval()
        self.crf = crf
        self.tokenizer = tokenizer
        self.aligner = aligner
        self.model_version = model_version
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.word_boundaries = isinstance(model, WordBoundaryModel)

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
        version = settings.get("model_version", Path(directory).name)
        return cls(model, tokenizer, aligner, version, CrfScores.load(checkpoint_model_dir(directory)))

    def _pad(self, windows: Sequence[Window]) -> dict[str, np.ndarray]:
        """The model inputs of a batch of windows, padded on the right."""
        return pad_windows(windows, self.pad_id, self.word_boundaries)

    def _logits(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray | torch.Tensor:
        """Logits (batch x tokens x tags) of a padded batch (:meth:`_pad`)."""
        device = next(self.model.parameters()).device  # a model trained on a GPU is still there
        with torch.inference_mode():
            logits = self.model(**{name: torch.from_numpy(array).to(device) for name, array in inputs.items()}).logits
        return logits.cpu()

    def _run(self, windows: Sequence[Window]) -> list[tuple[list[str], list[float]]]:
        """Tags and probabilities of each window (only its own tokens, padding dropped)."""
        logits = self._logits(self._pad(windows))
        if self.crf is not None:
            return self._decode_crf(np.asarray(logits, dtype=np.float32), windows)
        if isinstance(logits, np.ndarray):
            shifted = logits - logits.max(-1, keepdims=True)
            best = shifted.argmax(-1)
            probs = 1.0 / np.exp(shifted).sum(-1)  # the softmax at the argmax: exp(0) / sum
        else:
            with torch.inference_mode():
                probs, best = logits.softmax(-1).max(-1)
        best, probs = best.tolist(), probs.tolist()
        out = []
        for row, window in enumerate(windows):
            n = len(window.input_ids)
            out.append(([TAG_NAMES[i] for i in best[row][:n]], probs[row][:n]))
        return out

    def _decode_crf(self, logits: np.ndarray, windows: Sequence[Window]) -> list[tuple[list[str], list[float]]]:
        """Viterbi tags of each window's own tokens (special tokens stay O), with the softmax of the chosen tag."""
        exp = np.exp(logits - logits.max(-1, keepdims=True))
        probs = exp / exp.sum(-1, keepdims=True)
        out = []
        for row, window in enumerate(windows):
            n = len(window.input_ids)
            path = [0, *viterbi(logits[row, 1 : n - 1], self.crf), 0]
            out.append(([TAG_NAMES[i] for i in path], [float(probs[row, t, i]) for t, i in enumerate(path)]))
        return out

    def _word_tags(self, text: str, spans: Sequence[tuple[int, int]]) -> list[int] | None:
        """The tokens' word-boundary tags when the model takes them."""
        return clause_token_tags(text, spans) if self.word_boundaries else None

    def predict_clauses(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> list[list[Span]]:
        """Spans (clause-local offsets, with scores) for each clause text."""
        encodings = [self.aligner.encode(t) for t in texts]
        jobs = [
            (c, w)
            for c, (text, enc) in enumerate(zip(texts, encodings, strict=True))
            if enc.ids
            for w in self.aligner.windows(enc, word_tags=self._word_tags(text, enc.spans))
        ]
        jobs.sort(key=lambda job: len(job[1].input_ids))
        outputs: dict[int, list] = {c: [] for c in range(len(texts))}
        lengths = [len(w.input_ids) for _, w in jobs]
        total, done = sum(lengths), 0
        for start, end in batch_windows(lengths, batch_size, self.max_tokens):
            batch = jobs[start:end]
            for (c, window), out in zip(batch, self._run([w for _, w in batch]), strict=True):
                outputs[c].append((window, out))
            done += sum(lengths[start:end])
            if self.on_batch is not None:
                self.on_batch(done, total)
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

    def predict_spans(self, text: str, max_chars: int | None = DEFAULT_MAX_CHARS) -> list[Span]:
        """Spans of a whole document (document offsets), clause by clause."""
        clauses = segment(text, max_chars)
        per_clause = self.predict_clauses([c.text for c in clauses])
        return [s.shifted(c.start) for c, spans in zip(clauses, per_clause, strict=True) for s in spans]
