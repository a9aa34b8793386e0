"""The word-boundary input feature in the model (``model.word_boundaries``).

:class:`WordBoundaryModel` wraps a Hugging Face token classifier and adds a learned vector
per word-boundary tag (:mod:`govreport_ner.model.word_boundaries`) to its word embeddings:
``inputs_embeds = word_embeddings(input_ids) + word_embedding(word_tags)``. The vectors start
at zero, so training starts from the pretrained model's behaviour.

A checkpoint keeps the classifier in the Hugging Face layout and the vectors beside it in
:data:`WORD_EMBEDDING_FILE`; its alignment settings (``govreport_ner.json``) say
``"word_boundaries": true`` so that loading wraps the classifier again and the engines
compute the tags. A checkpoint without the flag loads as a plain classifier.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from govreport_ner.model.word_boundaries import NUM_WORD_TAGS

WORD_EMBEDDING_FILE = "word_boundaries.safetensors"
SETTING = "word_boundaries"  # the key in the checkpoint's alignment settings


class WordBoundaryModel(torch.nn.Module):
    """A token classifier whose input embeddings get one learned vector per word-boundary tag."""

    def __init__(self, model, weight: torch.Tensor | None = None):
        super().__init__()
        self.model = model
        dim = model.get_input_embeddings().embedding_dim
        self.word_embedding = torch.nn.Embedding(NUM_WORD_TAGS, dim)
        with torch.no_grad():
            self.word_embedding.weight.copy_(torch.zeros(NUM_WORD_TAGS, dim) if weight is None else weight)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        word_tags: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ):
        """The classifier's output for ``input_ids`` with the word-boundary vectors of ``word_tags`` added."""
        if word_tags is None:
            raise ValueError("this model takes word_tags (word-boundary tags, one per input id)")
        embeds = self.model.get_input_embeddings()(input_ids)
        embeds = embeds + self.word_embedding(word_tags).to(embeds.dtype)
        return self.model(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels, **kwargs)

    def save(self, directory: Path | str) -> Path:
        """Write the vectors beside a saved classifier."""
        path = Path(directory) / WORD_EMBEDDING_FILE
        save_file({"weight": self.word_embedding.weight.detach().cpu().contiguous()}, str(path))
        return path


def classifier_of(model):
    """The Hugging Face classifier of a model: the wrapped one, or the model itself."""
    return model.model if isinstance(model, WordBoundaryModel) else model


def load_word_boundary_model(model, directory: Path | str) -> WordBoundaryModel:
    """A loaded classifier wrapped with the vectors saved beside it (in evaluation mode)."""
    path = Path(directory) / WORD_EMBEDDING_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the checkpoint's settings say it was trained with word boundaries")
    weight = load_file(str(path))["weight"]
    if tuple(weight.shape) != (NUM_WORD_TAGS, model.get_input_embeddings().embedding_dim):
        raise ValueError(f"{path}: shape {tuple(weight.shape)} does not fit this model")
    return WordBoundaryModel(model, weight).eval()
