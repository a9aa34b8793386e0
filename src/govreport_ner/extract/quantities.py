"""Quantities: the amount of a QUANTITY span as numbers (``1.8万`` -> 18000, ``3-5万`` -> 30000..50000,
Chinese numerals, percentages), for the targets (:mod:`govreport_ner.extract.targets`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

HEDGES = "余多"  # 余/多 after a number: "more than", read as approximately
MAGNITUDES = {"百": Decimal(100), "千": Decimal(1000), "万": Decimal(10_000), "亿": Decimal(100_000_000)}


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}


CN_SECTION_UNITS = {"万": 10_000, "亿": 100_000_000}


_DIGITS_RE = re.compile(r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<mag>[百千万亿]*)")


_PERCENT_WORD = "百分之"
_FACTOR_RE = re.compile(r"(?P<factor>\d+(?:\.\d+)?)[×xX*](?P<rest>.+)")
_CN_NUMBER_CHARS = "点" + "".join(CN_DIGITS) + "".join(CN_SMALL_UNITS) + "".join(CN_SECTION_UNITS)

_CHINESE_RE = re.compile(f"[{_CN_NUMBER_CHARS}]+")

_RANGE_RE = re.compile(r"(?P<low>.+?)(?:[-—–~]+|至|到)(?P<high>.+)")


@dataclass(frozen=True)
class QuantityValue:
    """A parsed amount: ``value`` for a single number, ``low``/``high`` always set.

    For a range (``3-5万``) ``value`` is ``None`` and ``low``/``high`` give the bounds; for
    a single number ``value == low == high``. ``percent`` is True when the text itself
    carried a ``%`` (normally ``%`` is a separate UNIT span).
    """

    value: float | None
    low: float
    high: float
    percent: bool = False
    factor: float | None = None

    @property
    def is_range(self) -> bool:
        """True for a range such as ``1-2`` or ``1至2``."""
        return self.value is None


def _normalize_number_text(text: str) -> str:
    """NFKC (full-width digits, ．, ～, －), no whitespace, hedges 余/多 dropped."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace() and ch not in HEDGES)


def _parse_chinese(text: str) -> Decimal:
    """Value of a Chinese numeral: 两, 十二, 一百二十, 五千, 一万二千, 一百零五, 一万二 (= 12000), 三点五."""
    if "点" in text:  # 三点五: the integer part, then the digits after 点 one by one
        whole, _, decimals = text.partition("点")
        if not decimals or any(ch not in CN_DIGITS for ch in decimals):
            raise ValueError(f"cannot parse Chinese numeral {text!r}")
        return _parse_chinese(whole) + Decimal("0." + "".join(str(CN_DIGITS[ch]) for ch in decimals))
    total, section, number = Decimal(0), Decimal(0), Decimal(0)
    for ch in text:
        if ch in CN_DIGITS:
            number = Decimal(CN_DIGITS[ch])
        elif ch in CN_SMALL_UNITS:
            section += (number or 1) * CN_SMALL_UNITS[ch]
            number = Decimal(0)
        elif ch == "万":
            total += (section + number) * CN_SECTION_UNITS[ch]
            section, number = Decimal(0), Decimal(0)
        else:  # 亿 scales everything before it (一万亿 = 1e12)
            total = (total + section + number) * CN_SECTION_UNITS[ch]
            section, number = Decimal(0), Decimal(0)
    scales = {**CN_SMALL_UNITS, **CN_SECTION_UNITS}
    if len(text) > 1 and text[-1] in CN_DIGITS and text[-2] in scales:
        number *= Decimal(scales[text[-2]]) / 10  # 一百二 = 120, 三千五 = 3500, 十二 = 12
    return total + section + number


def _parse_single(text: str) -> tuple[Decimal, Decimal | None]:
    """One number (no range): its value and the magnitude written after its digits, if any."""
    m = _DIGITS_RE.fullmatch(text)
    if m:
        value = Decimal(m.group("num").replace(",", ""))
        factors = [MAGNITUDES[ch] for ch in m.group("mag")]
        if factors != sorted(factors):  # 千万, 万亿 are magnitudes; 万千 is 万 + the 千 of 千瓦
            raise ValueError(f"cannot parse quantity {text!r}: magnitudes out of order")
        magnitude = None
        for factor in factors:
            magnitude = (magnitude or Decimal(1)) * factor
        return value * (magnitude or 1), magnitude
    if _CHINESE_RE.fullmatch(text) and text[0] not in "百千万亿点":
        return _parse_chinese(text), None
    raise ValueError(f"cannot parse quantity {text!r}")


def _as_float(value: Decimal) -> float:
    """Float of an exact decimal (1.55万 -> 15500.0, never 15500.000000000002)."""
    return float(value)


def parse_quantity(text: str) -> QuantityValue:
    """Parse a QUANTITY span's text into numbers.

    Handles digits with decimals and thousands commas (``1,200``; groups of three only),
    full-width digits and ``％``, ``百分之二十五`` (25, ``percent=True``), a multiplier
    (``2×35万`` -> 700000 with ``factor=2``), magnitudes 百/千/万/亿 and their products (``1.2万亿`` = 1.2e12),
    Chinese numerals (两, 十二, 一百二十, 五千), a trailing ``%`` (``percent=True``), the
    hedges 余/多 (ignored), and ranges joined by - — – ~ ～ 至 到 where the magnitude may be
    written on the last part only (``3-5万`` -> 30000..50000; ``5000-1万`` keeps 5000).

    Raises:
        ValueError: the text is not a number or a range of two numbers.
    """
    normalized = _normalize_number_text(text)
    percent = normalized.endswith("%") or normalized.startswith(_PERCENT_WORD)
    normalized = normalized.rstrip("%").removeprefix(_PERCENT_WORD)
    if not normalized:
        raise ValueError(f"cannot parse quantity {text!r}: no number")
    factor = _FACTOR_RE.fullmatch(normalized)
    if factor is not None:
        times = Decimal(factor.group("factor"))
        inner = parse_quantity(factor.group("rest"))
        scale = [
            None if v is None else _as_float(Decimal(repr(v)) * times) for v in (inner.value, inner.low, inner.high)
        ]
        return QuantityValue(scale[0], scale[1], scale[2], percent or inner.percent, _as_float(times))
    try:
        m = _RANGE_RE.fullmatch(normalized)
        if m is None:
            value, _ = _parse_single(normalized)
            return QuantityValue(_as_float(value), _as_float(value), _as_float(value), percent)
        low, low_magnitude = _parse_single(m.group("low").rstrip("%"))
        high, high_magnitude = _parse_single(m.group("high"))
    except (ValueError, InvalidOperation) as err:
        raise ValueError(f"cannot parse quantity {text!r}") from err
    if low_magnitude is None and high_magnitude is not None and low * high_magnitude <= high:
        low *= high_magnitude  # 3-5万: the 万 belongs to both parts
    if low > high:
        raise ValueError(f"cannot parse quantity {text!r}: range low {low} > high {high}")
    return QuantityValue(None, _as_float(low), _as_float(high), percent)
