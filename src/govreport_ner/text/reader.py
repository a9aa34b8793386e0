"""Reading report files: UTF-8 (with or without BOM) or GB18030/GBK, text kept exactly as decoded."""

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

    UTF-8 is tried first (a BOM is dropped, as it is no part of the text), then GB18030,
    which is a superset of GBK and GB2312. Nothing else about the text is changed:
    CRLF line breaks stay, so offsets index the file's characters.
    """
    text, encoding = _decode(data, path)
    if not text.strip():
        raise ReportReadError(path, "empty file (no text to read)")
    return text, encoding


def _decode(data: bytes, path: Path | str) -> tuple[str, str]:
    """The decoding behind :func:`decode_report` (no emptiness check)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise ReportReadError(path, f"UTF-8 BOM but invalid UTF-8 at byte {err.start + 3}") from err
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as err:
        raise ReportReadError(path, f"undecodable bytes at offset {err.start}: neither UTF-8 nor GB18030/GBK") from err


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
    for line_no, raw in iter_jsonl_lines(path):
        doc = read_jsonl_line(raw, path, line_no)
        if not doc.text.strip():
            raise ReportReadError(path, f"line {line_no}: empty text")
        yield doc


def is_jsonl(path: Path | str) -> bool:
    """True for a ``.jsonl`` input file."""
    return Path(path).suffix.lower() == ".jsonl"


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
