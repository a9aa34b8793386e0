"""``scripts/silver.py``: label the corpus with a fold checkpoint and the rules, keep the clauses they agree on.

The labelling model's own ``config.yaml`` and ``metrics.json`` say which regions it was held
out from: their provinces are left out of the silver, and so are the gold excerpts and those of the
training batches (``data.extra_train_gold``), so a fold's silver holds no text of its test regions
and no gold. One silver file per document; a rerun
skips the documents already labelled by the same model with the same policy.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

from omegaconf import DictConfig
from tqdm import tqdm

from govreport_ner.annotation.corpus_gold import read_standoff, standoff_files
from govreport_ner.annotation.excerpts import read_index
from govreport_ner.commands.config import gold_settings, settings_from
from govreport_ner.commands.evaluate import checkpoint_holdout
from govreport_ner.data.gold import extra_gold_folders, region_provinces
from govreport_ner.data.silver import (
    SUMMARY_FILE,
    Labeller,
    SilverPolicy,
    read_silver,
    silver_clause,
    silver_record,
    write_silver,
)
from govreport_ner.predict.protocol import RulePredictor
from govreport_ner.text.reader import ReportReadError, read_report
from govreport_ner.text.segment import segment

log = logging.getLogger(__name__)


def labeller_holdout(checkpoint: Path, data_cfg) -> tuple[tuple[str, ...] | None, set[str], dict]:
    """The regions the labelling checkpoint was held out from (None if it does not say: evaluate.py's
    ``checkpoint_holdout``), their provinces, and the gold excerpts (source -> ranges) of ``data_cfg``,
    its training batches' included."""
    settings = gold_settings(data_cfg)
    found = checkpoint_holdout(checkpoint, data_cfg)
    if found is None:
        log.warning("%s has no config.yaml/metrics.json: its held-out regions are unknown", checkpoint)
    regions = tuple(found[0] or ()) if found else None
    provinces = region_provinces(settings.seed_dir, settings.corpus_gold)
    excerpts: dict[str, list[tuple[int, int]]] = {}
    folders = [settings.corpus_gold] if settings.corpus_gold else []
    for folder in [*folders, *extra_gold_folders(settings.extra_train_gold)]:
        for path in standoff_files(folder):
            record = read_standoff(path)
            excerpts.setdefault(record["source"], []).append((record["start"], record["end"]))
    return regions, {provinces[r] for r in regions or () if r in provinces}, excerpts


def already_labelled(path: Path, labeller: Labeller, policy: SilverPolicy) -> bool:
    """Whether ``path`` is silver of the same labeller and policy (a rerun skips it)."""
    if not path.is_file():
        return False
    try:
        record = read_silver(path)
    except ValueError:
        return False
    return record["labeller"] == labeller.to_dict() and record["policy"] == policy.to_dict()


def label_document(text: str, model, rules, policy: SilverPolicy, gold_ranges, max_chars: int):
    """The kept clauses of one document ``(start, end, spans)`` and the number of clauses looked at."""
    clauses = [
        c for c in segment(text, max_chars) if not any(c.start < end and start < c.end for start, end in gold_ranges)
    ]
    texts = [c.text for c in clauses]
    kept = []
    for clause, model_spans, rule_spans in zip(
        clauses, model.predict_clauses(texts), rules.predict_clauses(texts), strict=True
    ):
        spans = silver_clause(clause.text, model_spans, rule_spans, policy)
        if spans is not None:
            kept.append((clause.start, clause.end, spans))
    return kept, len(clauses)


def silver_command(cfg: DictConfig) -> dict:
    """Write one silver file per corpus document to ``cfg.output``; a summary (also ``SUMMARY_FILE``)."""
    from govreport_ner.predict.predictors import load_predictor

    checkpoint, output, corpus_dir = Path(cfg.checkpoint), Path(cfg.output), Path(cfg.corpus_dir)
    policy = settings_from(SilverPolicy, cfg.policy)
    held_out, held_out_provinces, gold_excerpts = labeller_holdout(checkpoint, cfg.data)
    rows = [row for row in read_index(corpus_dir) if row.province not in held_out_provinces]
    if cfg.limit:
        rows = rows[: int(cfg.limit)]
    model = load_predictor(cfg)
    labeller = Labeller(model.model_version, held_out)
    rules = RulePredictor(cfg.max_chars)
    counts, labels, failed = Counter(), Counter(), []
    for row in tqdm(rows, desc="silver", unit="doc"):
        path = output / f"{Path(row.file).with_suffix('').as_posix().replace('/', '__')}.json"
        if already_labelled(path, labeller, policy):
            counts["documents_already_labelled"] += 1
            continue
        try:
            text = read_report(corpus_dir / row.file).text
        except (OSError, ReportReadError) as err:
            failed.append(f"{row.file}: {err}")
            continue
        kept, seen = label_document(text, model, rules, policy, gold_excerpts.get(row.file, ()), cfg.max_chars)
        record = silver_record(row.file, text, row.region, row.province, row.year, kept, labeller, policy)
        write_silver(path, record)
        counts.update(
            documents=1, clauses_seen=seen, clauses_kept=len(kept), characters_kept=sum(e - s for s, e, _ in kept)
        )
        labels.update(s.label for _, _, spans in kept for s in spans)
    summary = {
        "labeller": labeller.to_dict(),
        "left_out_provinces": sorted(held_out_provinces),
        **counts,
        "spans": dict(sorted(labels.items())),
        "failed": failed,
    }
    output.mkdir(parents=True, exist_ok=True)
    (output / SUMMARY_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    share = counts["clauses_kept"] / counts["clauses_seen"] if counts["clauses_seen"] else 0.0
    print(
        f"silver: {counts['documents']} documents labelled ({counts['documents_already_labelled']} already), "
        f"{counts['clauses_kept']}/{counts['clauses_seen']} clauses kept ({share:.0%}), "
        f"{sum(labels.values())} spans, {len(failed)} failed -> {output}"
    )
    for err in failed:
        print(f"FAILED {err}")
    return summary
