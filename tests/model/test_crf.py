"""The CRF output layer: BIO constraints, numpy Viterbi against brute force, loss, saved scores."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from govreport_ner.labels import BIO_TAGS, TAG2ID
from govreport_ner.model.crf import OPEN, BioCRF, CrfScores, allowed_transitions, legal_bio, viterbi


def is_legal(path: list[int]) -> bool:
    start_ok, allowed = allowed_transitions()
    return bool(start_ok[path[0]]) and all(allowed[a, b] for a, b in itertools.pairwise(path))


def brute_force(emissions: np.ndarray, scores: CrfScores, tags: list[int]) -> list[int]:
    def total(path):
        s = scores.start[path[0]] + scores.end[path[-1]] + sum(emissions[t, k] for t, k in enumerate(path))
        return s + sum(scores.transitions[a, b] for a, b in itertools.pairwise(path))

    return list(max((p for p in itertools.product(tags, repeat=len(emissions)) if is_legal(list(p))), key=total))


def test_bio_constraints():
    start_ok, allowed = allowed_transitions()
    assert start_ok[TAG2ID["B-UNIT"]] and not start_ok[TAG2ID["I-UNIT"]]
    assert allowed[TAG2ID["B-UNIT"], TAG2ID["I-UNIT"]] and allowed[TAG2ID["I-UNIT"], TAG2ID["I-UNIT"]]
    assert not allowed[TAG2ID["O"], TAG2ID["I-UNIT"]] and not allowed[TAG2ID["B-PROJECT"], TAG2ID["I-UNIT"]]


def test_viterbi_is_the_best_legal_path():
    rng = np.random.default_rng(0)
    subset = [TAG2ID[t] for t in ("O", "B-UNIT", "I-UNIT", "B-PROJECT", "I-PROJECT")]
    for _ in range(20):
        n = len(BIO_TAGS)
        scores = CrfScores(rng.normal(size=n), rng.normal(size=n), rng.normal(size=(n, n)))
        emissions = np.full((4, n), -50.0)
        emissions[:, subset] = rng.normal(size=(4, len(subset))) * 3
        path = viterbi(emissions, scores)
        assert is_legal(path)
        assert path == brute_force(emissions, scores, subset)


def test_viterbi_never_starts_or_continues_illegally_even_when_emissions_say_so():
    scores = BioCRF().scores()
    emissions = np.zeros((3, len(BIO_TAGS)))
    emissions[:, TAG2ID["I-PROGRAM"]] = 5.0
    path = [BIO_TAGS[i] for i in viterbi(emissions, scores)]
    assert path == ["B-PROGRAM", "I-PROGRAM", "I-PROGRAM"]


def test_legal_bio_repairs_an_inside_tag_after_outside():
    tags = torch.tensor([[0, TAG2ID["I-UNIT"], TAG2ID["I-UNIT"], TAG2ID["B-PROJECT"], TAG2ID["I-UNIT"]]])
    assert legal_bio(tags).tolist() == [[0, TAG2ID["B-UNIT"], TAG2ID["I-UNIT"], TAG2ID["B-PROJECT"], TAG2ID["B-UNIT"]]]


def test_crf_loss_learns_a_sequence_and_scores_round_trip(tmp_path):
    torch.manual_seed(0)
    crf = BioCRF()
    logits = torch.zeros(1, 6, len(BIO_TAGS), requires_grad=True)
    labels = torch.tensor([[-100, TAG2ID["B-QUANTITY"], TAG2ID["B-UNIT"], TAG2ID["O"], TAG2ID["O"], -100]])
    optimizer = torch.optim.Adam([logits, *crf.parameters()], lr=0.1)
    first = None
    for _ in range(60):
        optimizer.zero_grad()
        loss = crf.loss(logits, labels)
        first = first if first is not None else loss.item()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 5
    crf.scores().save(tmp_path)
    loaded = CrfScores.load(tmp_path)
    assert np.allclose(loaded.transitions, crf.scores().transitions)
    path = viterbi(logits.detach().numpy()[0, 1:5], loaded)
    assert [BIO_TAGS[i] for i in path] == ["B-QUANTITY", "B-UNIT", "O", "O"]
    assert CrfScores.load(tmp_path / "nothing") is None


def partial_case(seed: int = 0):
    torch.manual_seed(seed)
    crf = BioCRF()
    logits = torch.randn(2, 6, len(BIO_TAGS), requires_grad=True)
    tags = ["O", "B-QUANTITY", "B-UNIT", "B-PROGRAM", "I-PROGRAM"]
    labels = torch.tensor([[-100, *(TAG2ID[t] for t in tags)], [-100, *(TAG2ID[t] for t in reversed(tags))]])
    return crf, logits, labels


def test_partial_labels_without_open_tokens_are_the_full_likelihood():
    crf, logits, labels = partial_case()
    emissions, mask = logits[:, 1:].float(), labels[:, 1:] != -100
    full = crf.loss(logits, labels)
    partial = crf._partial_nll(emissions, labels[:, 1:], mask, ()).mean()
    assert torch.allclose(full, partial, atol=1e-4)


def test_open_tokens_sum_over_the_names_they_may_be():
    crf, logits, labels = partial_case(1)
    open_tags = [TAG2ID[t] for t in ("B-PROJECT", "I-PROJECT", "B-PROGRAM", "I-PROGRAM")]
    opened = labels.clone()
    opened[0, 1] = OPEN  # was O: now O or a name
    assert crf.loss(logits, opened, open_tags) < crf.loss(logits, labels)  # more paths agree: likelier
    everything = torch.full_like(labels, OPEN)
    everything[:, 0] = -100
    assert crf.loss(logits, everything, list(range(1, len(BIO_TAGS)))).abs() < 1e-3  # every path agrees
    loss = crf.loss(logits, opened, open_tags)
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_an_open_token_never_takes_a_closed_label():
    crf, logits, labels = partial_case(2)
    opened = labels.clone()
    opened[0, 1] = OPEN
    open_tags = [TAG2ID["B-PROGRAM"], TAG2ID["I-PROGRAM"]]
    with torch.no_grad():  # push the open token towards QUANTITY, a closed label: the loss must not reward it
        pushed = logits.clone()
        pushed[0, 1, TAG2ID["B-QUANTITY"]] += 50.0
    assert crf.loss(pushed, opened, open_tags) > crf.loss(logits, opened, open_tags)
