"""The entity scheme: five labels, their Chinese names, and the character BIO tag set."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("QUANTITY", "UNIT", "DEADLINE", "PROJECT", "PROGRAM")

CHINESE_NAMES: dict[str, str] = {
    "QUANTITY": "目标数量",
    "UNIT": "单位",
    "DEADLINE": "时限",
    "PROJECT": "项目名称",
    "PROGRAM": "政策举措",
}

BIO_TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{label}" for label in LABELS for p in ("B", "I"))
TAG2ID: dict[str, int] = {tag: i for i, tag in enumerate(BIO_TAGS)}
ID2TAG: dict[int, str] = dict(enumerate(BIO_TAGS))


def is_known_label(label: str) -> bool:
    """True for one of the five labels of the scheme."""
    return label in LABELS
