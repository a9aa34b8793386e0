"""The inputs of a batch: report files, folders and JSONL files read into documents or failures,
restricted to a shard and to the documents not done yet."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from govreport_ner.text.reader import (
    Document,
    JsonlLineError,
    ReportReadError,
    check_jsonl,
    is_jsonl,
    iter_jsonl_lines,
    list_report_files,
    read_jsonl_line,
    read_report,
)


@dataclass(frozen=True)
class Failure:
    """An input that could not be processed: document (or file) id, where, and why."""

    id: str
    source: str
    reason: str

    def to_dict(self) -> dict:
        return {"id": self.id, "source": self.source, "reason": self.reason}


def parse_shard(shard: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``"i/n"`` (or ``(i, n)``) as a pair, checked; ``None`` for no sharding."""
    if shard is None or shard == "" or str(shard).lower() in ("null", "none"):
        return None
    try:
        i, n = (int(x) for x in (str(shard).split("/") if isinstance(shard, str) else shard))
    except (ValueError, TypeError) as err:
        raise ValueError(f"shard must look like 'i/n' (e.g. 0/4), not {shard!r}") from err
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"shard {i}/{n}: need 0 <= i < n")
    return i, n


def shard_of(doc_id: str, n: int) -> int:
    """The shard (0..n-1) of a document id: BLAKE2b of its UTF-8 bytes, modulo ``n``."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


def in_shard(doc_id: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``doc_id`` belongs to ``shard`` (always True without sharding)."""
    return shard is None or shard_of(doc_id, shard[1]) == shard[0]


def _failure_from_error(err: ReportReadError) -> Failure:
    return Failure(Path(err.path).stem, err.path, err.reason)


def iter_jsonl(path: Path) -> Iterator[Document | Failure]:
    """Documents of a JSONL file of ``{"id", "text"}`` objects; a bad line is a Failure, not the end.

    Records are read by :func:`govreport_ner.text.reader.read_jsonl_line`, as
    :func:`~govreport_ner.text.reader.iter_jsonl_documents` reads them, but every line on
    its own, so one bad line does not stop the rest of the file. A file that is not JSON Lines
    at all (a JSON array) is one Failure.
    """
    try:
        check_jsonl(path)
    except ReportReadError as err:
        yield Failure(path.stem, str(path), err.reason)
        return
    for line_no, raw in iter_jsonl_lines(path):
        try:
            yield read_jsonl_line(raw, path, line_no)
        except JsonlLineError as err:
            yield Failure(err.doc_id, f"{path}:{line_no}", err.why)


def input_paths(inputs: str | Path | Sequence[str | Path]) -> list[Path]:
    """The input paths of a config value: one path or a list of them."""
    if isinstance(inputs, (str, Path)):
        return [Path(inputs)]
    return [Path(p) for p in inputs]


def count_inputs(paths: Sequence[Path], shard: tuple[int, int] | None, skip: set[str]) -> int | None:
    """How many documents will be read (for the progress bar); None when a JSONL file is among the inputs."""
    total = 0
    for path in paths:
        if path.is_file() and is_jsonl(path):
            return None
        if path.is_dir():
            try:
                files = list_report_files(path)
            except ReportReadError:
                continue
            total += sum(1 for f in files if in_shard(f.stem, shard) and f.stem not in skip)
        elif in_shard(path.stem, shard) and path.stem not in skip:
            total += 1
    return total


def iter_documents(
    paths: Sequence[Path],
    shard: tuple[int, int] | None = None,
    skip: set[str] | frozenset = frozenset(),
    read: Callable[[Path], Document | Failure | Path] | None = None,
) -> Iterator[Document | Failure | Path]:
    """Documents of the inputs in order, restricted to a shard, without the ids in ``skip``.

    Report files are read by ``read`` (default :func:`read_input_file`); a runner that reads
    them elsewhere (the Ray runner, on its workers) passes ``read=lambda path: path`` and gets
    the paths, chosen exactly as they would have been read.

    Report files are assigned to shards (and skipped) by their stem *before* being read.
    Only the first occurrence of a skipped id is skipped: a later one is a duplicate and is
    yielded, so that it is reported as on the first run. A missing input or a folder
    without reports is a Failure of every shard.
    """
    read = read or read_input_file
    skipped: set[str] = set()

    def wanted(doc_id: str) -> bool:
        if not in_shard(doc_id, shard):
            return False
        if doc_id in skip and doc_id not in skipped:
            skipped.add(doc_id)
            return False
        return True

    for path in paths:
        if path.is_file() and is_jsonl(path):
            yield from (item for item in iter_jsonl(path) if wanted(item.id))
            continue
        if path.is_dir():
            try:
                files = list_report_files(path)
            except ReportReadError as err:
                yield Failure(path.name, str(path), err.reason)
                continue
        elif path.exists():
            files = [path]
        else:
            yield Failure(path.stem, str(path), "no such file or directory")
            continue
        for file in files:
            if wanted(file.stem):
                yield read(file)


def read_input_file(file: Path) -> Document | Failure:
    """One report file as a Document, or the Failure that says why it could not be read."""
    try:
        return read_report(file)
    except ReportReadError as err:
        return _failure_from_error(err)
    except OSError as err:
        return Failure(file.stem, str(file), f"cannot read: {err.strerror or err}")
