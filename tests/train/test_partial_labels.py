"""Partial silver: its O tokens are left open for the open labels (CRF) or ignored (softmax); gold is untouched."""

from datasets import Dataset

from govreport_ner.annotation.labelstudio_format import AnnotatedTask
from govreport_ner.data.dataset import build_dataset
from govreport_ner.labels import TAG2ID
from govreport_ner.model.alignment import IGNORE, CharAligner
from govreport_ner.model.crf import OPEN
from govreport_ner.model.modeling import build_tiny
from govreport_ner.train.trainer import encode_windows
from tests.helpers import span_of

TEXT = "年底前新建公园12个，实施城市更新行动。"


def clauses(partial: bool) -> Dataset:
    spans = (span_of(TEXT, "12", "QUANTITY"), span_of(TEXT, "个", "UNIT"))
    dataset = build_dataset([AnnotatedTask("t", "d", "甲市", TEXT, 0, spans, province="甲省")])
    return dataset.add_column("partial", [partial]) if partial else dataset


def test_open_o_in_partial_silver_and_nowhere_else():
    tokenizer, _ = build_tiny([TEXT])
    aligner = CharAligner(tokenizer, one_token_per_char=True, max_length=64)
    gold = encode_windows(clauses(False), aligner)[0]["labels"]
    silver = encode_windows(clauses(True), aligner, unasserted_o=OPEN)[0]["labels"]
    softmax = encode_windows(clauses(True), aligner)[0]["labels"]
    quantity = 1 + TEXT.index("12")  # after the leading special token
    assert gold[quantity] == silver[quantity] == TAG2ID["B-QUANTITY"]
    assert gold.count(TAG2ID["O"]) == silver.count(OPEN) == softmax.count(IGNORE) - 2 > 0
    assert TAG2ID["O"] not in silver and OPEN not in gold
