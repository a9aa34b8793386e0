"""A CRF output layer over BIO tags: trained with pytorch-crf, decoded by Viterbi in numpy.

Training adds a :class:`BioCRF` (pytorch-crf's ``CRF`` with BIO-illegal transitions started
at a large negative score) on top of the token classifier's logits, and the loss is the CRF's
negative log-likelihood. Decoding is the numpy :func:`viterbi` with the learned scores and
the BIO constraints made hard, so the torch and ONNX engines decode the same way from the
same logits. The learned scores travel with the checkpoint as ``crf.json``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchcrf import CRF

from govreport_ner.labels import BIO_TAGS

CRF_FILE = "crf.json"
FORBIDDEN = -10000.0
OPEN = -2  # a token label: O or any open tag (partial annotation), see BioCRF.loss


def allowed_transitions(tags: tuple[str, ...] = BIO_TAGS) -> tuple[np.ndarray, np.ndarray]:
    """``(allowed start tags, allowed[i, j] for tag i followed by tag j)`` under BIO."""
    n = len(tags)
    start = np.array([not t.startswith("I-") for t in tags])
    allowed = np.ones((n, n), dtype=bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            label = tag[2:]
            for i, prev in enumerate(tags):
                allowed[i, j] = prev in (f"B-{label}", f"I-{label}")
    return start, allowed


@dataclass
class CrfScores:
    """Learned CRF scores: ``start[j]``, ``end[j]``, ``transitions[i, j]`` (numpy)."""

    start: np.ndarray
    end: np.ndarray
    transitions: np.ndarray

    def save(self, directory: Path | str) -> Path:
        path = Path(directory) / CRF_FILE
        payload = {"tags": list(BIO_TAGS), **{k: getattr(self, k).tolist() for k in ("start", "end", "transitions")}}
        path.write_text(json.dumps(payload), encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: Path | str) -> CrfScores | None:
        """The scores saved in a checkpoint folder, or None for a softmax model."""
        path = Path(directory) / CRF_FILE
        if not path.is_file():
            return None
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload["tags"] != list(BIO_TAGS):
            raise ValueError(f"{path}: tag set {payload['tags']} differs from this version's {list(BIO_TAGS)}")
        return cls(*(np.asarray(payload[k], dtype=np.float32) for k in ("start", "end", "transitions")))


def viterbi(emissions: np.ndarray, scores: CrfScores) -> list[int]:
    """The best BIO-legal tag path for one sequence of emissions (tokens x tags)."""
    start_ok, allowed = allowed_transitions()
    trans = np.where(allowed, scores.transitions, -np.inf)
    score = np.where(start_ok, scores.start, -np.inf) + emissions[0]
    back = np.zeros((len(emissions), emissions.shape[1]), dtype=np.int64)
    for t in range(1, len(emissions)):
        candidates = score[:, None] + trans  # previous tag x next tag
        back[t] = candidates.argmax(0)
        score = candidates.max(0) + emissions[t]
    best = [int((score + scores.end).argmax())]
    for t in range(len(emissions) - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    return best[::-1]


class BioCRF(torch.nn.Module):
    """pytorch-crf over BIO tags, BIO-illegal transitions started at a large negative score."""

    def __init__(self, tags: tuple[str, ...] = BIO_TAGS):
        super().__init__()
        self.crf = CRF(len(tags), batch_first=True)
        start_ok, allowed = allowed_transitions(tags)
        with torch.no_grad():
            self.crf.start_transitions[torch.from_numpy(~start_ok)] = FORBIDDEN
            self.crf.transitions[torch.from_numpy(~allowed)] = FORBIDDEN

    def scores(self) -> CrfScores:
        return CrfScores(
            *(
                p.detach().cpu().float().numpy()
                for p in (self.crf.start_transitions, self.crf.end_transitions, self.crf.transitions)
            )
        )

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, open_tags: Sequence[int] = ()) -> torch.Tensor:
        """Mean negative log-likelihood over the labelled tokens (the leading special token is dropped).

        A token labelled :data:`OPEN` (partial annotation: silver that asserts its spans but not
        that the rest holds no name) may take O or any of ``open_tags``: its likelihood is summed
        over every tag path that agrees with the known tokens.
        """
        emissions, labels = logits[:, 1:].float(), labels[:, 1:]
        mask = labels != -100
        with warnings.catch_warnings():  # pytorch-crf 0.7.2 indexes with a uint8 mask internally
            warnings.simplefilter("ignore", UserWarning)
            if not (labels == OPEN).any():
                tags = legal_bio(torch.where(mask, labels, torch.zeros_like(labels)))
                return -self.crf(emissions, tags, mask=mask, reduction="mean")
            return self._partial_nll(emissions, labels, mask, open_tags).mean()

    def _partial_nll(self, emissions, labels, mask, open_tags: Sequence[int]) -> torch.Tensor:
        """log Z - log (the sum over the paths that agree with the labels), per sequence."""
        known = torch.where(mask & (labels != OPEN), labels, torch.zeros_like(labels))
        allowed = torch.nn.functional.one_hot(legal_bio(known), emissions.shape[-1]).bool()
        open_row = torch.zeros(emissions.shape[-1], dtype=torch.bool, device=emissions.device)
        open_row[[0, *open_tags]] = True  # O or an open tag
        allowed = torch.where((labels == OPEN)[..., None], open_row, allowed)
        constrained = emissions.masked_fill(~allowed, FORBIDDEN)
        time_major = emissions.transpose(0, 1), mask.transpose(0, 1)
        log_z = self.crf._compute_normalizer(*time_major)
        log_agreeing = self.crf._compute_normalizer(constrained.transpose(0, 1), time_major[1])
        return log_z - log_agreeing


def legal_bio(tags: torch.Tensor) -> torch.Tensor:
    """Token tags with an I- that follows neither its B- nor its I- turned into that B- (a token
    whose first character continues an entity that began inside the previous token)."""
    previous = torch.cat([torch.zeros_like(tags[:, :1]), tags[:, :-1]], dim=1)
    inside = (tags > 0) & (tags % 2 == 0)  # I- tags have even ids in BIO_TAGS
    broken = inside & (previous != tags) & (previous != tags - 1)
    return torch.where(broken, tags - 1, tags)
