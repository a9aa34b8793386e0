"""The checkpoint's model card (``model/README.md``) in the Hugging Face model-card format."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import yaml
from datasets import Dataset

from govreport_ner.data.gold import extra_gold_folders
from govreport_ner.labels import CHINESE_NAMES, LABELS
from govreport_ner.train.settings import TrainRun


def _front_matter(run: TrainRun) -> str:
    """YAML metadata read by the Hugging Face hub."""
    base = str(run.model.name_or_path or "a small BERT built from the training data (tiny)")
    meta = {
        "language": ["zh"],
        "license": "mit",
        "library_name": "transformers",
        "pipeline_tag": "token-classification",
        "tags": ["ner", "token-classification", "government-work-reports", "govreport-ner"],
        "base_model": base,
        "metrics": ["f1", "precision", "recall"],
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _training_data(run: TrainRun, train_clauses: Dataset) -> list[str]:
    counts = Counter(s["label"] for spans in train_clauses["spans"] for s in spans)
    regions, provinces = set(train_clauses["region"]), set(train_clauses["province"])
    rows = [f"| {label} ({CHINESE_NAMES[label]}) | {counts[label]} |" for label in LABELS]
    holdout = run.gold.holdout
    return [
        "## Training data",
        "",
        f"{len(train_clauses)} gold clauses ({sum(len(t) for t in train_clauses['text']):,} characters) from "
        f"{len(regions)} regions in {len(provinces)} provinces; held out: {holdout or 'nothing'}. "
        + _data_variant(run)
        + (
            "Gold: five seed report excerpts and standoff annotations over excerpts of the cities-2024 corpus "
            "(two independent passes on a third, review elsewhere, adjudication; see the project's "
            "annotations/README.md). "
            if run.gold.corpus_gold
            else "Gold: the five seed report excerpts (annotations/gold). "
        )
        + "Annotators were AI-agent sessions working from the guidelines.",
        "",
        "| label | training entities |",
        "|---|---|",
        *rows,
    ]


def _data_variant(run: TrainRun) -> str:
    """What the training data was beyond the gold minus the held-out regions (a learning curve, extra gold)."""
    fraction, extra = run.gold.train_fraction, run.gold.extra_train_gold
    text = (
        f"A learning-curve run: {fraction:g} of the training regions kept "
        f"(data.train_fraction_seed={run.gold.train_fraction_seed}). "
        if fraction != 1
        else ""
    )
    batches = ", ".join(Path(folder).name for folder in extra_gold_folders(extra))  # no machine's paths in a card
    return text + (
        f"Training also read the unmerged gold batches {batches} (held-out provinces left out). " if extra else ""
    )


def _cross_region(path: str | None) -> list[str]:
    """The province-grouped fold summary written by ``scripts/aggregate.py`` (loro.json), as a table."""
    lines = ["## Evaluation across regions", ""]
    if not path or not Path(path).is_file():
        return [*lines, "No cross-region evaluation was given to this run (`model_card.cross_region=<loro.json>`)."]
    summary = json.loads(Path(path).read_text(encoding="utf-8"))
    systems = list(summary["summary"])
    runs = len(next(iter(summary["folds"].values())))
    seeds = len(summary.get("seeds", {}).get("model", {})) or 1
    folds = f"{runs // seeds} province-grouped folds x {seeds} seeds" if seeds > 1 else f"{runs} province-grouped folds"
    keys = ["micro_f1", *(f"f1_{label}" for label in LABELS)]
    lines += [
        f"Strict entity F1 on regions never seen in training, {folds}, mean ± std (from `{path}`):",
        "",
        "| system | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for system in systems:
        cells = [summary["summary"][system].get(k) for k in keys]
        lines.append(
            f"| {system} | " + " | ".join(f"{c['mean']:.3f} ± {c['std']:.3f}" if c else "-" for c in cells) + " |"
        )
    return [*lines, "", *_rules_do_better(summary)]


def _rules_do_better(summary: dict) -> list[str]:
    """A sentence naming the labels on which the rules beat the model alone across regions."""
    model, rules = summary["summary"].get("model", {}), summary["summary"].get("rules", {})
    worse = [
        label
        for label in LABELS
        if f"f1_{label}" in model
        and f"f1_{label}" in rules
        and model[f"f1_{label}"]["mean"] < rules[f"f1_{label}"]["mean"]
    ]
    if not worse:
        return []
    return [
        f"The rules do better than this model alone on {', '.join(worse)} (on average; compare the spread): "
        f"`scripts/predict.py rule_labels=[{','.join(worse)}]` runs the model+rules hybrid, in which the rules "
        "decide those labels."
    ]


def _silver(run: TrainRun, metrics: dict) -> list[str]:
    """What the run took from silver data (machine labels, not gold), if any."""
    if not (run.silver and run.silver.dir and "silver_clauses" in metrics):
        return []
    how = f"{run.silver.epochs} epoch(s) on it before the gold" if run.silver.mode == "pretrain" else "beside the gold"
    open_labels = ", ".join(run.silver.open_labels) or "none"
    return [
        "",
        f"Silver data (`{run.silver.dir}`, from `scripts/silver.py`: corpus clauses on which a fold checkpoint "
        f"and the rules agree; machine labels, not gold): {metrics['silver_clauses']} clauses, {how}; labels its "
        f"O left open: {open_labels}.",
    ]


def model_card(run: TrainRun, train_clauses: Dataset, metrics: dict) -> str:
    """The card's Markdown: description, data, cross-region scores, use, limits, training settings."""
    t = run.trainer
    seeds = metrics.get("ensemble_seeds")
    lines = [
        _front_matter(run),
        f"# govreport-ner: {run.name}" + (f" (an ensemble of {len(seeds)} seeds)" if seeds else ""),
        "",
        "A character-exact token classifier for Chinese government work reports (政府工作报告): "
        + ", ".join(f"{label} ({CHINESE_NAMES[label]})" for label in LABELS)
        + f". Output layer: {'CRF (Viterbi decoding with BIO constraints, crf.json)' if run.model.crf else 'softmax'}.",
        *_ensemble(seeds, metrics),
        "",
        *_training_data(run, train_clauses),
        "",
        *_cross_region(run.cross_region),
        "",
        "## Intended use",
        "",
        "Finding quantified targets (amount, unit, deadline) and named projects and programs in Chinese "
        "local government work reports, for research that codes targets across regions and years; use "
        "`scripts/predict.py checkpoint=<this run>` (entities with exact offsets and target records).",
        "",
        "## Known limits",
        "",
        "- Trained on reports of 2022-2024 from prefecture-level cities and a few counties; other genres "
        "(national reports, five-year plans) and years are untested.",
        "- PROJECT and PROGRAM are open classes with fuzzy edges (see the guidelines' rulings); expect "
        "boundary disagreements on long coordinated names and slogans.",
        "- The gold was made by AI-agent annotators and adjudicated by the same kind of agent; a human "
        "domain review of the hard cases has not been made.",
        "",
        "## Training procedure",
        "",
        f"epochs {t.epochs}, batch size {t.batch_size}, learning rate {t.learning_rate}, warmup {t.warmup_ratio}, "
        f"weight decay {t.weight_decay}, {_o_weight(run)}"
        + (f"seeds {', '.join(map(str, seeds))} (one model each), " if seeds else f"seed {t.seed}, ")
        + f"clauses oversampled per label {t.oversample or 'none'}; "
        f"max_length {run.model.max_length}, stride {run.model.stride}, one token per character: "
        f"{run.model.one_token_per_char}, jieba word-boundary input: {run.model.word_boundaries}. "
        f"Training took {metrics['train_seconds']:.0f} s{' for all members' if seeds else ''} "
        f"({metrics['train_steps']} steps, {metrics['torch_threads']} threads).",
        *_silver(run, metrics),
    ]
    if "test_micro_f1" in metrics:
        lines += [
            "",
            f"Held-out micro-F1 of this run: {metrics['test_micro_f1']:.3f} on {metrics['test_clauses']} clauses"
            + _members_f1(metrics)
            + ".",
        ]
    return "\n".join(lines) + "\n"


def _ensemble(seeds: list[int] | None, metrics: dict) -> list[str]:
    """What an ensemble is made of and how it predicts (nothing for one model)."""
    if not seeds:
        return []
    members = ", ".join(f"`{m}/`" for m in metrics["members"])
    return [
        "",
        f"An ensemble of {len(seeds)} models of one recipe, trained with seeds {', '.join(map(str, seeds))} "
        f"({members}: each a checkpoint with its own card, listed in `ensemble.json`). `scripts/predict.py "
        "checkpoint=<this folder>` runs every member on every window, averages their logits (and CRF scores) "
        f"and decodes once: about {len(seeds)} times the inference time of one model.",
    ]


def _members_f1(metrics: dict) -> str:
    """The members' own held-out micro-F1 beside an ensemble's."""
    scores = [f for f in metrics.get("member_test_micro_f1") or [] if f is not None]
    return f" (its members alone: {', '.join(f'{f:.3f}' for f in scores)})" if scores else ""


def _o_weight(run: TrainRun) -> str:
    """The O-tag loss weight, which only the softmax head uses (a CRF's likelihood has no class weights)."""
    return "" if run.model.crf else f"O-tag loss weight {run.trainer.class_weight_o}, "


def write_model_card(run: TrainRun, model_dir: Path, train_clauses: Dataset, metrics: dict) -> Path:
    """Write ``model_dir/README.md`` (a model's ``model/`` folder, or an ensemble's output_dir)."""
    path = Path(model_dir) / "README.md"
    path.write_text(model_card(run, train_clauses, metrics), encoding="utf-8")
    return path
