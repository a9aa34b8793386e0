"""The work behind the thin entry points in ``scripts/`` (dataset building and pre-labelling)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from . import rules
from .annotation.corpus_gold import load_corpus_gold, read_standoff, standoff_files
from .dataset import build_dataset, format_statistics, province_folds, split_by_region, statistics
from .labels import LABELS
from .labelstudio_format import read_export, write_tasks
from .seeds import SeedMeta, load_metadata, region_aliases

log = logging.getLogger(__name__)
FOLD_RE = re.compile(r"fold-(\d+)")


def load_gold_tasks(data_cfg: DictConfig, skip_unannotated: bool = False):
    """The gold tasks of ``data.gold`` (Label Studio exports) and, with ``data.corpus_gold``, the
    standoff corpus gold rebuilt over ``data.corpus_dir``; every task knows its province."""
    tasks, report = read_export(data_cfg.gold, skip_unannotated=skip_unannotated)
    for problem in report.repairs + report.skipped:
        log.warning("%s", problem)
    provinces = {m.region: m.province for m in seed_metadata(data_cfg).values()}
    tasks = [t if t.province else replace(t, province=provinces.get(t.region, "")) for t in tasks]
    if data_cfg.get("corpus_gold"):
        tasks += load_corpus_gold(data_cfg.corpus_gold, data_cfg.corpus_dir)
    return tasks, report


def load_gold_dataset(data_cfg: DictConfig, skip_unannotated: bool = False):
    """The gold clauses as a Dataset, with the export reader's report."""
    tasks, report = load_gold_tasks(data_cfg, skip_unannotated)
    return build_dataset(tasks, data_cfg.max_chars), report


def region_provinces(data_cfg: DictConfig) -> dict[str, str]:
    """Province of every gold region (seed metadata and corpus standoff records; no corpus text read)."""
    provinces = {m.region: m.province for m in seed_metadata(data_cfg).values()}
    if data_cfg.get("corpus_gold"):
        for path in standoff_files(data_cfg.corpus_gold):
            record = read_standoff(path)
            provinces[record["region"]] = record["province"]
    return provinces


def fold_regions(data_cfg: DictConfig, fold: int) -> list[str]:
    """The regions of province-grouped test fold ``fold`` of ``data.folds``."""
    k = data_cfg.get("folds")
    if not k:
        raise ValueError(f"data.holdout=fold-{fold} needs data.folds=K (the number of province-grouped folds)")
    if not 0 <= fold < k:
        raise ValueError(f"data.holdout=fold-{fold}: folds are numbered 0..{k - 1}")
    return province_folds(region_provinces(data_cfg), k)[fold]


def seed_metadata(data_cfg: DictConfig) -> dict[str, SeedMeta]:
    """The rows of ``<data.seed_dir>/regions.csv`` (empty when there is no such table)."""
    table = Path(data_cfg.seed_dir) / "regions.csv"
    return load_metadata(table) if table.exists() else {}


def region_ids(data_cfg: DictConfig) -> dict[str, str]:
    """Region name -> ASCII region id, from the seed metadata."""
    return {m.region: m.region_id for m in seed_metadata(data_cfg).values()}


def resolve_holdout(data_cfg: DictConfig) -> list[str] | None:
    """Held-out region names from ``data.holdout``: names, ASCII ids (xunxian) or doc ids."""
    holdout = data_cfg.holdout
    if holdout is None:
        return None
    if isinstance(holdout, str) and (m := FOLD_RE.fullmatch(holdout)):
        return fold_regions(data_cfg, int(m.group(1)))
    given = [holdout] if isinstance(holdout, str) else list(holdout)
    aliases = region_aliases(seed_metadata(data_cfg))
    return [aliases.get(str(name), str(name)) for name in given]


def build_dataset_command(cfg: DictConfig) -> dict:
    """Build the DatasetDict, save it to ``output_dir`` and print its statistics (per fold with ``data.folds``)."""
    dataset, report = load_gold_dataset(cfg.data, cfg.get("skip_unannotated", False))
    dataset_dict = split_by_region(dataset, resolve_holdout(cfg.data))
    out = Path(cfg.output_dir)
    dataset_dict.save_to_disk(str(out))
    stats = {split: statistics(ds) for split, ds in dataset_dict.items()}
    print(f"export: {report.summary().splitlines()[0]}")
    for split, split_stats in stats.items():
        print(f"\n## {split}\n\n{format_statistics(split_stats)}")
    if cfg.data.get("folds"):
        stats["folds"] = fold_statistics(dataset, cfg.data)
        print(f"\n## province-grouped folds (data.folds={cfg.data.folds}; hold one out with data.holdout=fold-<i>)\n")
        print(format_fold_statistics(stats["folds"]))
    (out / "statistics.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nsaved DatasetDict({', '.join(f'{k}: {len(v)}' for k, v in dataset_dict.items())}) to {out}")
    return stats


def fold_statistics(dataset, data_cfg: DictConfig) -> list[dict]:
    """Regions, provinces, clauses, characters and entities per label of every test fold."""
    rows = []
    for i, regions in enumerate(province_folds(region_provinces(data_cfg), data_cfg.folds)):
        test = split_by_region(dataset, regions)["test"]
        total = statistics(test)["total"]
        rows.append({"fold": f"fold-{i}", "regions": len(regions), "provinces": len(set(test["province"])), **total})
    return rows


def format_fold_statistics(rows: list[dict]) -> str:
    """Fold statistics as a Markdown table."""
    header = ["fold", "regions", "provinces", "clauses", "characters", *LABELS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[k]) for k in header) + " |" for row in rows]
    return "\n".join(lines)


def metadata_by_file(inputs: Path, metadata: str | None) -> dict[str, SeedMeta]:
    """File name -> metadata row, from a regions.csv given or lying beside the inputs."""
    table = Path(metadata) if metadata else (inputs if inputs.is_dir() else inputs.parent) / "regions.csv"
    if not table.exists():
        return {}
    return {meta.file: meta for meta in load_metadata(table).values()}


def prelabel_command(cfg: DictConfig) -> int:
    """Write Label Studio tasks with rule predictions for every report of ``inputs``."""
    from .labelstudio_client import build_tasks

    inputs = Path(cfg.inputs)
    tasks, failed = build_tasks(
        inputs, cfg.per, rules.tag_text, rules.MODEL_VERSION, metadata_by_file(inputs, cfg.get("metadata"))
    )
    n = write_tasks(tasks, cfg.output)
    print(f"wrote {n} tasks with {rules.MODEL_VERSION} predictions to {cfg.output}")
    for err in failed:
        print(f"SKIPPED {err}")
    return n


def evaluation_clauses(cfg: DictConfig):
    """The gold clauses an evaluation runs on: held-out regions, or every clause."""
    dataset, _ = load_gold_dataset(cfg.data)
    splits = split_by_region(dataset, resolve_holdout(cfg.data))
    return splits.get(cfg.get("split", "test"), splits["train"])


def evaluate_command(cfg: DictConfig) -> dict:
    """Score a checkpoint and the rules on the same clauses; write JSON, Markdown and a chart."""
    from .evaluation import evaluate_systems, hybrid_predictor, rule_predictor, write_reports

    clauses = evaluation_clauses(cfg)
    systems = {"rules": rule_predictor}
    main = "rules"
    if str(cfg.checkpoint) != "rules":
        from .tagger import Tagger

        tagger = Tagger.from_checkpoint(cfg.checkpoint)
        main = "model"

        def model(texts):
            return tagger.predict_clauses(texts, cfg.batch_size)

        systems = {"model": model, "model+rules": hybrid_predictor(model), **systems}
    results = evaluate_systems(clauses, systems)
    paths = write_reports(results, cfg.output_dir, main, region_ids(cfg.data))
    for name, result in results.items():
        micro = result["scores"]["strict"]["micro"]
        print(
            f"{name:6s} strict micro P {micro['precision']:.3f} R {micro['recall']:.3f} F1 {micro['f1']:.3f} "
            f"on {len(clauses)} clauses"
        )
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return {name: r["scores"] for name, r in results.items()}


def fold_scores(strict: dict) -> dict[str, float]:
    """One fold's strict scores in the ``metrics.json`` naming (``test_micro_f1``, ``test_f1_UNIT``…).

    A label with neither gold nor predicted spans in the fold (no DEADLINE in 齐齐哈尔市) has no
    F1 there and is left out of that label's mean.
    """
    return {
        "test_micro_f1": strict["micro"]["f1"],
        "test_macro_f1": strict["macro"]["f1"],
        **{
            f"test_f1_{label}": row["f1"]
            for label, row in strict["per_label"].items()
            if row["support"] or row["predicted"]
        },
    }


def aggregate_command(cfg: DictConfig) -> dict:
    """Leave-one-region-out summary: mean and spread per label of the model, model+rules and rules."""
    from .evaluation import aggregate_folds, hybrid_predictor, rule_predictor, score_predictions
    from .tagger import Tagger

    sweep = Path(cfg.sweep_dir)
    folds = {p.parent.name: json.loads(p.read_text()) for p in sorted(sweep.glob("holdout-*/metrics.json"))}
    folds = {name: m for name, m in folds.items() if m.get("holdout")}
    if not folds:
        raise FileNotFoundError(f"no fold with a held-out region under {sweep} (expected holdout-*/metrics.json)")
    dataset, _ = load_gold_dataset(cfg.data)
    systems: dict[str, dict] = {"model": {}, "model+rules": {}, "rules": {}}
    for name, metrics in folds.items():
        holdout = resolve_holdout(OmegaConf.merge(cfg.data, {"holdout": metrics["holdout"]}))
        test = split_by_region(dataset, holdout)["test"]
        model = Tagger.from_checkpoint(sweep / name).predict_clauses
        for system, predict in (("model", model), ("model+rules", hybrid_predictor(model)), ("rules", rule_predictor)):
            systems[system][name] = fold_scores(score_predictions(test, predict(test["text"]))["strict"])
    summary = {"folds": systems, "summary": {name: aggregate_folds(f) for name, f in systems.items() if f}}
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "loro.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    table = format_loro(summary)
    (out / "loro.md").write_text(table, encoding="utf-8")
    print(table)
    return summary


def format_loro(summary: dict) -> str:
    """The leave-one-region-out table: mean ± std (min-max) of each system per metric, and per fold."""
    keys = [
        "micro_f1",
        "macro_f1",
        *(f"f1_{label}" for label in ("QUANTITY", "UNIT", "DEADLINE", "PROJECT", "PROGRAM")),
    ]
    systems = list(summary["summary"])
    folds = list(summary["folds"]["model"])
    lines = [
        f"Leave-one-region-out over {len(folds)} folds ({', '.join(folds)}); strict entity F1, mean ± std (min-max)",
        "",
        "| metric | " + " | ".join(systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    for key in keys:
        cells = []
        for system in systems:
            row = summary["summary"][system].get(key)
            cells.append(f"{row['mean']:.3f} ± {row['std']:.3f} ({row['min']:.2f}-{row['max']:.2f})" if row else "-")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| fold (held out) | " + " | ".join(f"{s} micro-F1" for s in systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    for fold in folds:
        cells = [
            f"{summary['folds'][s][fold]['test_micro_f1']:.3f}" if fold in summary["folds"][s] else "-" for s in systems
        ]
        lines.append(f"| {fold} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
