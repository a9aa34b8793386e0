"""Reading report files: UTF-8 (with or without BOM), GB18030/GBK, UTF-16 and Big5, text kept exactly
as decoded; a file whose encoding cannot be told is an error, never mojibake."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPORT_SUFFIXES = (".txt",)


class ReportReadError(ValueError):
    """A report that cannot be read; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Document:
    """One report: ``text`` is the decoded file content; every offset indexes it."""

    id: str
    text: str
    source: str = ""
    encoding: str = "utf-8"


def decode_report(data: bytes, path: Path | str = "<bytes>") -> tuple[str, str]:
    """Decode report bytes, returning ``(text, encoding)``.

    In order: a byte-order mark decides (UTF-8, UTF-16 LE/BE; the BOM is dropped, as it is no
    part of the text); NUL bytes without a BOM mean UTF-16 without one (decoded when one byte
    order gives plausible text) or a file that is not text (an error); then UTF-8; then
    GB18030 (a superset of GBK and GB2312) when its characters are plausible for a simplified
    Chinese report, else Big5 when that is. Anything else raises :class:`ReportReadError` with
    the reason. Nothing about the text is changed: CRLF line breaks stay, so offsets index the
    file's characters.
    """
    text, encoding = _decode(data, path)
    if not text.strip():
        raise ReportReadError(path, "empty file (no text to read)")
    return text, encoding


BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
MIN_CHARS_TO_JUDGE = 8  # non-ASCII characters below which the character statistics are not used
MAX_ODD_SHARE = 0.2  # share of unusual characters above which a decoding is implausible (real reports: < 0.01)


def _common_simplified(char: str) -> bool:
    """A character of simplified Chinese running text: GB2312 punctuation, digits, full-width forms or hanzi."""
    try:
        code = char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return code[0] in (0xA1, 0xA2, 0xA3) or 0xB0 <= code[0] <= 0xF7


def _common_traditional(char: str) -> bool:
    """A character of traditional Chinese running text: Big5 punctuation or a frequent (level 1) hanzi."""
    try:
        code = char.encode("big5")
    except UnicodeEncodeError:
        return False
    return 0xA1 <= code[0] <= 0xC6


def odd_share(text: str, common=_common_simplified) -> float | None:
    """The share of non-ASCII characters that are not ``common``; None when too few to judge."""
    wide = [c for c in text if ord(c) >= 0x80]
    if len(wide) < MIN_CHARS_TO_JUDGE:
        return None
    return sum(not common(c) for c in wide) / len(wide)


def _plausible(text: str, common=_common_simplified) -> bool:
    share = odd_share(text, common)
    return share is None or share <= MAX_ODD_SHARE


def _controls(text: str) -> int:
    """Control characters other than tab and line breaks (NUL included)."""
    return sum(1 for c in text if ord(c) < 0x20 and c not in "\t\r\n")


def _decode(data: bytes, path: Path | str) -> tuple[str, str]:
    """The decoding behind :func:`decode_report` (no emptiness check)."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            codec = "utf-8" if encoding == "utf-8-sig" else encoding
            try:
                return data[len(bom) :].decode(codec), encoding
            except UnicodeDecodeError as err:
                raise ReportReadError(
                    path, f"{encoding} BOM (byte-order mark), but undecodable as {codec} at byte {err.start + len(bom)}"
                ) from err
    if b"\x00" in data:
        return _decode_without_bom(data, path)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as err:
        text, why = None, f"undecodable bytes at offset {err.start}: neither UTF-8 nor GB18030/GBK"
    else:
        if _plausible(text):
            return text, "gb18030"
        why = (
            f"not UTF-8, and as GB18030 {odd_share(text):.0%} of its non-ASCII characters are symbols or rare "
            "characters (mojibake)"
        )
    for codec in ("big5", "cp950"):
        try:
            big5 = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _plausible(big5, _common_traditional) and not _controls(big5):
            return big5, "big5" if codec == "big5" else codec
        break
    if found := _utf16_without_bom(data):
        return found
    raise ReportReadError(path, f"{why}; nor plausible as Big5 or UTF-16 (save it as UTF-8)")


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text without a byte-order mark: the byte order that gives plausible text, if one does."""
    if len(data) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if not _controls(text) and odd_share(text) is not None and _plausible(text):
            return text, codec
    return None


def _decode_without_bom(data: bytes, path: Path | str) -> tuple[str, str]:
    """Bytes with NULs and no byte-order mark: UTF-16 of one plausible byte order, or an error."""
    if found := _utf16_without_bom(data):
        return found
    nul = data.index(b"\x00")
    raise ReportReadError(
        path,
        f"NUL byte at offset {nul} and no byte-order mark: not a text report "
        "(binary, or UTF-16/UTF-32 that could not be recognised; save it as UTF-8)",
    )


def read_report(path: Path | str, doc_id: str | None = None) -> Document:
    """Read one report file into a :class:`Document` (id defaults to the file stem)."""
    path = Path(path)
    if path.is_dir():
        raise ReportReadError(path, "is a directory, expected a report file")
    if not path.exists():
        raise ReportReadError(path, "no such file")
    text, encoding = decode_report(path.read_bytes(), path)
    return Document(doc_id or path.stem, text, str(path), encoding)


def list_report_files(folder: Path | str) -> list[Path]:
    """Report files of a folder (sorted, not recursive); an error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportReadError(folder, "no such directory")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES)
    if not files:
        raise ReportReadError(folder, f"directory has no report files ({', '.join(REPORT_SUFFIXES)})")
    return files


class JsonlLineError(ReportReadError):
    """One bad line of a JSONL input: ``why`` it is bad, and the ``doc_id`` it stands for."""

    def __init__(self, path: Path | str, line_no: int, why: str, doc_id: str):
        self.line_no, self.why, self.doc_id = line_no, why, doc_id
        super().__init__(path, f"line {line_no}: {why}")


def read_jsonl_line(raw: bytes, path: Path, line_no: int) -> Document:
    """The document of one JSONL line ``{"id": ..., "text": ...}`` (id default ``<stem>-<line>``).

    The one JSONL record reader: a bad line raises :class:`JsonlLineError`. Empty text is
    the caller's to judge.
    """
    fallback_id = f"{path.stem}-{line_no}"
    if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise JsonlLineError(path, line_no, f"invalid UTF-8 at byte {err.start}", fallback_id) from err
    except json.JSONDecodeError as err:
        raise JsonlLineError(path, line_no, f"invalid JSON ({err.msg})", fallback_id) from err
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        doc_id = str(record.get("id", fallback_id)) if isinstance(record, dict) else fallback_id
        raise JsonlLineError(path, line_no, "expected an object with a string 'text'", doc_id)
    return Document(str(record.get("id", fallback_id)), record["text"], f"{path}:{line_no}")


def iter_jsonl_lines(path: Path | str) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank lines of a JSONL file."""
    with Path(path).open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            if raw.strip():
                yield line_no, raw


def iter_jsonl_documents(path: Path | str) -> Iterator[Document]:
    """Documents from a JSONL file of ``{"id": ..., "text": ...}`` objects; a bad line raises."""
    path = Path(path)
    check_jsonl(path)
    for line_no, raw in iter_jsonl_lines(path):
        doc = read_jsonl_line(raw, path, line_no)
        if not doc.text.strip():
            raise ReportReadError(path, f"line {line_no}: empty text")
        yield doc


JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def is_jsonl(path: Path | str) -> bool:
    """True for a JSON Lines input file: ``.jsonl``, ``.ndjson`` or ``.json`` (see :func:`check_jsonl`)."""
    return Path(path).suffix.lower() in JSONL_SUFFIXES


def check_jsonl(path: Path | str) -> None:
    """Raise :class:`ReportReadError` when a ``.json``/``.jsonl``/``.ndjson`` file is plainly not JSON Lines.

    A JSON array (a Label Studio export, a list of reports) is one value over many lines,
    not one ``{"id", "text"}`` object per line: refused with a message rather than read
    as a line of errors.
    """
    with Path(path).open("rb") as handle:
        head = handle.read(4096).lstrip(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"["):
        raise ReportReadError(
            path,
            'a JSON array, not JSON Lines: predict reads one {"id": ..., "text": ...} object per line '
            "(write one object per line, or pass the reports as .txt files)",
        )
    if head and not head.startswith(b"{"):
        raise ReportReadError(path, 'not JSON Lines: the first line is not a JSON object {"id": ..., "text": ...}')


def iter_inputs(path: Path | str) -> Iterator[Document | ReportReadError]:
    """Every document of an input: a report file, a folder of reports, or a JSONL file.

    Unreadable files are yielded as :class:`ReportReadError` (not raised), so a batch can
    report them and go on; a missing path or a folder without reports raises at once.
    """
    path = Path(path)
    if path.is_file() and is_jsonl(path):
        yield from iter_jsonl_documents(path)
        return
    files = list_report_files(path) if path.is_dir() else [path]
    if not path.exists():
        raise ReportReadError(path, "no such file or directory")
    for file in files:
        try:
            yield read_report(file)
        except ReportReadError as err:
            yield err
