"""Several checkpoints as one tagger: their per-token scores averaged, then decoded once.

Checkpoints of one recipe trained with different seeds make different mistakes on names; the
mean of their logits (emissions) decoded with the mean CRF scores is a better tagger than any
one of them (``reports/experiments.md``, "An ensemble of seeds"), at the cost of running each
member on every window. Members must share the tokenizer and the windowing, so that their
logits line up token by token; each may run on torch or ONNX Runtime.

An ensemble trained by ``train.py`` (``ensemble_seeds``) is one folder: the members' training
output_dirs and ``ensemble.json`` naming them, so that ``checkpoint=<that folder>`` loads it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from govreport_ner.model.crf import CrfScores
from govreport_ner.model.tagger import Tagger


def tagger_signature(tagger: Tagger) -> dict:
    """What must be equal for two taggers' logits to line up token by token."""
    aligner = tagger.aligner
    return {
        "tokenizer": f"{type(tagger.tokenizer).__name__} of {len(tagger.tokenizer)} tokens",
        "one_token_per_char": aligner.one_token_per_char,
        "window": aligner.window,
        "stride": aligner.stride,
        "word_boundaries": tagger.word_boundaries,
        "crf": tagger.crf is not None,
    }


def mean_crf(scores: Sequence[CrfScores]) -> CrfScores:
    """The element-wise mean of the members' CRF scores."""
    return CrfScores(
        **{name: np.mean([getattr(s, name) for s in scores], axis=0) for name in ("start", "end", "transitions")}
    )


class EnsembleTagger(Tagger):
    """Tags with the mean logits of two or more compatible taggers (see :func:`tagger_signature`)."""

    def __init__(self, members: Sequence[Tagger]):
        if len(members) < 2:
            raise ValueError(f"an ensemble needs two or more checkpoints, got {len(members)}")
        first = tagger_signature(members[0])
        for member in members[1:]:
            other = tagger_signature(member)
            if other != first:
                differ = ", ".join(f"{k}: {first[k]} vs {other[k]}" for k in first if first[k] != other[k])
                raise ValueError(
                    f"{member.model_version} cannot join an ensemble with {members[0].model_version} ({differ}): "
                    "members must be trained from the same base model with the same model settings"
                )
        self.members = list(members)
        self.model = None
        self.crf = mean_crf([m.crf for m in members]) if first["crf"] else None
        self.tokenizer, self.aligner, self.pad_id = members[0].tokenizer, members[0].aligner, members[0].pad_id
        self.word_boundaries = members[0].word_boundaries
        self.model_version = f"ensemble({', '.join(m.model_version for m in members)})"
        self.engine = f"{getattr(members[0], 'engine', 'torch')} x {len(members)}"

    def _logits(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.mean([np.asarray(m._logits(inputs), dtype=np.float32) for m in self.members], axis=0)


# A training output_dir that holds an ensemble: its members (one output_dir per seed) listed here.
ENSEMBLE_MANIFEST = "ensemble.json"


def write_ensemble_manifest(output_dir: Path, members: Sequence[Path], **info) -> Path:
    """Write ``output_dir/ensemble.json``: the members' folders relative to it, and ``info`` (seeds)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    relative = [Path(os.path.relpath(Path(member).resolve(), output_dir.resolve())).as_posix() for member in members]
    path = output_dir / ENSEMBLE_MANIFEST
    path.write_text(json.dumps({"members": relative, **info}, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def ensemble_members(checkpoint: Path | str) -> list[Path] | None:
    """The member folders of an ensemble output_dir (one with ``ensemble.json``), or None for any other path."""
    manifest = Path(checkpoint) / ENSEMBLE_MANIFEST
    if not manifest.is_file():
        return None
    members = [Path(checkpoint) / member for member in json.loads(manifest.read_text(encoding="utf-8"))["members"]]
    missing = [str(member) for member in members if not member.is_dir()]
    if missing:
        raise FileNotFoundError(f"{manifest} lists members that are not there: {', '.join(missing)}")
    return members
