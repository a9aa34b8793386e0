"""Choosing report excerpts from the corpus for annotation (deterministic, seeded).

Each chosen report gives one excerpt of about ``target_chars`` characters, cut at line
boundaries, from one planned kind of passage:

- ``headline``: the paragraph of main targets for the coming year (主要预期目标);
- ``review``: the review of last year's results;
- ``tasks``: the plan's task sections (the window with the most deadline cues);
- ``projects``: lists of practical projects (民生实事, 重点项目).
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from govreport_ner.text.reader import read_report

KINDS = ("headline", "review", "tasks", "projects")
HEADLINE_RE = re.compile(r"主要预期目标|主要目标是|主要目标为|预期目标是")
PROJECTS_RE = re.compile(r"民生实事|为民办实事|重点项目|实事项目|民生工程")
REVIEW_RE = re.compile(r"工作回顾|过去的一年|过去一年|一年来")
DEADLINE_RE = re.compile(
    r"年底前|年内|月底前?|上半年|下半年|全年|今年|年前|月前|前完成|到20\d\d年|20\d\d年底|三年内|两年内"
)
PLAN_START_RE = re.compile(r"主要预期目标|总体要求|重点抓好|重点做好|重点工作")


@dataclass(frozen=True)
class IndexRow:
    """One row of a corpus ``INDEX.tsv``."""

    file: str
    region: str
    province: str
    year: int
    characters: int
    note: str = ""


@dataclass(frozen=True)
class Excerpt:
    """A chosen excerpt: ``text[start:end]`` of ``source`` (relative to the corpus folder)."""

    doc_id: str
    source: str
    start: int
    end: int
    sha256: str
    region: str
    province: str
    year: int
    kind: str

    def to_row(self) -> dict:
        """A flat dict for ``excerpts.csv``."""
        return asdict(self)


def sha256_text(text: str) -> str:
    """Hex sha256 of the UTF-8 bytes of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_index(corpus_dir: Path | str) -> list[IndexRow]:
    """The rows of ``INDEX.tsv`` in a corpus folder (an error naming the file if it is missing)."""
    path = Path(corpus_dir) / "INDEX.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no INDEX.tsv in the corpus folder {corpus_dir}")
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            IndexRow(r["file"], r["region"], r["province"], int(r["year"]), int(r["characters"]), r.get("note") or "")
            for r in csv.DictReader(handle, delimiter="\t")
        ]


SENTENCE_END_RE = re.compile(r"[。！？]")


def line_spans(text: str, max_chars: int = 2600) -> list[tuple[int, int]]:
    """``(start, end)`` of every non-empty line, the line break excluded.

    A line longer than ``max_chars`` (some reports have whole sections on one line) is cut
    after its sentence ends instead, so that an excerpt can still begin and end inside it.
    """
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body.strip():
            spans.extend(_sentences(pos, body) if len(body) > max_chars else [(pos, pos + len(body))])
        pos += len(line)
    return spans


def _sentences(offset: int, body: str) -> list[tuple[int, int]]:
    """A long line as its sentences (each ending at 。！？, the last at the line's end)."""
    cuts = [m.end() for m in SENTENCE_END_RE.finditer(body)]
    bounds = [0, *[c for c in cuts if c < len(body)], len(body)]
    return [(offset + a, offset + b) for a, b in zip(bounds, bounds[1:], strict=False) if body[a:b].strip()]


def window_from(lines: Sequence[tuple[int, int]], first: int, target_chars: int, max_chars: int) -> tuple[int, int]:
    """Whole lines from ``lines[first]`` until about ``target_chars`` (never past ``max_chars`` unless one line is)."""
    start, end = lines[first][0], lines[first][1]
    for _, line_end in lines[first + 1 :]:
        if end - start >= target_chars or line_end - start > max_chars:
            break
        end = line_end
    return start, end


def plan_start(text: str, lines: Sequence[tuple[int, int]]) -> int:
    """Index of the first line of the plan part (after the review), or half way when no cue is found."""
    for i, (s, e) in enumerate(lines):
        if i > 2 and PLAN_START_RE.search(text[s:e]):
            return i
    return len(lines) // 2


def candidate_starts(text: str, lines: Sequence[tuple[int, int]], kind: str) -> list[int]:
    """Line indexes where an excerpt of this kind may begin."""
    split = plan_start(text, lines)
    if kind == "headline":
        return [i for i, (s, e) in enumerate(lines) if HEADLINE_RE.search(text[s:e])][:1]
    if kind == "projects":
        return [i for i, (s, e) in enumerate(lines) if i >= split and PROJECTS_RE.search(text[s:e])]
    if kind == "review":
        return list(range(1, max(1, split - 3)))
    return list(range(split + 1, max(split + 1, len(lines) - 3)))


def choose_window(
    text: str, kind: str, rng: random.Random, target_chars: int, max_chars: int
) -> tuple[int, int] | None:
    """The excerpt of a report for one kind of passage, or None when the report has no such passage."""
    lines = line_spans(text, max_chars)
    starts = candidate_starts(text, lines, kind)
    if not starts:
        return None
    windows = [window_from(lines, i, target_chars, max_chars) for i in starts]
    windows = [w for w in windows if w[1] - w[0] >= target_chars // 2]
    if not windows:
        return None
    if kind == "review":
        return rng.choice(windows)
    # tasks and projects: the window richest in deadline cues (ties broken by the seeded generator)
    scored = [(len(DEADLINE_RE.findall(text[s:e])), rng.random(), (s, e)) for s, e in windows]
    return max(scored)[2]


def choose_reports(rows: Sequence[IndexRow], n: int, rng: random.Random) -> list[IndexRow]:
    """``n`` reports, one per region: every province first (in random order), then the rest at random."""
    by_province: dict[str, list[IndexRow]] = defaultdict(list)
    for row in rows:
        by_province[row.province].append(row)
    chosen = [rng.choice(sorted(group, key=lambda r: r.file)) for _, group in sorted(by_province.items())]
    rng.shuffle(chosen)
    rest = [r for r in sorted(rows, key=lambda r: r.file) if r not in chosen]
    rng.shuffle(rest)
    picked = (chosen + rest)[:n]
    regions = [r.region for r in picked]
    if len(set(regions)) != len(regions):
        raise ValueError("two chosen reports share a region")
    return picked


def plan_kinds(n: int, mix: Mapping[str, float]) -> list[str]:
    """``n`` kinds in the proportions of ``mix`` (largest remainder)."""
    total = sum(mix.values())
    exact = {k: n * v / total for k, v in mix.items()}
    counts = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    return [k for k in KINDS for _ in range(counts.get(k, 0))]


def excluded(row: IndexRow, exclude_notes: Sequence[str], exclude_files: Sequence[str]) -> bool:
    """True for reports left out: listed by file, or with a defect note that touches any excerpt."""
    return row.file in exclude_files or any(word in row.note for word in exclude_notes)


def sample_excerpts(
    corpus_dir: Path | str,
    n: int = 60,
    mix: Mapping[str, float] | None = None,
    seed: int = 13,
    target_chars: int = 2000,
    max_chars: int = 2600,
    exclude_notes: Sequence[str] = (),
    exclude_files: Sequence[str] = (),
    id_prefix: str = "cities2024",
    look_ahead: int = 3,
) -> list[Excerpt]:
    """Choose ``n`` excerpts, one per region, with the planned mix of passage kinds."""
    corpus_dir = Path(corpus_dir)
    rng = random.Random(seed)
    rows = read_index(corpus_dir)
    position = {row.file: i for i, row in enumerate(rows)}
    pool = [r for r in rows if not excluded(r, exclude_notes, exclude_files)]
    texts = {r.file: read_report(corpus_dir / r.file).text for r in pool}
    kinds = plan_kinds(n, mix or dict.fromkeys(KINDS, 1.0))
    excerpts: list[Excerpt] = []
    reports = choose_reports(pool, len(pool), rng)
    for kind in kinds:
        found = []
        for row in reports:
            window = choose_window(texts[row.file], kind, rng, target_chars, max_chars)
            if window is not None:
                found.append((row, window))
            if len(found) == (1 if kind in ("headline", "review") else look_ahead):
                break
        if not found:
            raise ValueError(f"no report left with a passage of kind {kind!r}")
        # tasks and projects: of the next few candidates, the one richest in deadline cues
        row, (start, end) = max(found, key=lambda f: len(DEADLINE_RE.findall(texts[f[0].file][f[1][0] : f[1][1]])))
        reports.remove(row)
        excerpts.append(
            Excerpt(
                doc_id=f"{id_prefix}_{position[row.file]:03d}",
                source=row.file,
                start=start,
                end=end,
                sha256=sha256_text(texts[row.file][start:end]),
                region=row.region,
                province=row.province,
                year=row.year,
                kind=kind,
            )
        )
    return sorted(excerpts, key=lambda e: e.doc_id)


def write_excerpts_csv(excerpts: Sequence[Excerpt], path: Path | str) -> None:
    """``excerpts.csv``: one row per excerpt."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(Excerpt.__dataclass_fields__))
        writer.writeheader()
        for excerpt in excerpts:
            writer.writerow(excerpt.to_row())


def read_excerpts_csv(path: Path | str) -> list[Excerpt]:
    """The excerpts listed in ``excerpts.csv``."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [
            Excerpt(
                r["doc_id"],
                r["source"],
                int(r["start"]),
                int(r["end"]),
                r["sha256"],
                r["region"],
                r["province"],
                int(r["year"]),
                r["kind"],
            )
            for r in csv.DictReader(handle)
        ]
