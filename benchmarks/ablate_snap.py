"""Snapping ablation: strict F1 of fold checkpoints without snapping, with ``snap.py`` of an earlier
revision, and with today's, on the same raw model predictions (one model pass per fold).

python benchmarks/ablate_snap.py runs/e5_small/holdout-fold-* --against 50ad875 --out reports/snap_ablation.json

Each run is a ``train.py`` output_dir with a held-out fold (``metrics.json``); its gold settings
come from its ``config.yaml``. The raw predictions are kept in ``<run>/raw_predictions.pkl``, so a
second comparison costs no model pass.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]
SNAP = "src/govreport_ner/extract/snap.py"


def snap_at(revision: str):
    """``snap_spans`` as it was at ``revision`` (read with ``git show``)."""
    source = subprocess.run(["git", "show", f"{revision}:{SNAP}"], cwd=REPO, check=True, capture_output=True).stdout
    path = Path(tempfile.mkdtemp()) / "snap_at_revision.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("snap_at_revision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.snap_spans


def raw_predictions(run: Path, texts: list[str], threads: int | None) -> list:
    """The model's spans before snapping, computed once per run."""
    from govreport_ner.predict.predictors import load_predictor

    cache = run / "raw_predictions.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    raw = load_predictor(run, num_threads=threads).tagger.predict_clauses(texts, 64)
    cache.write_bytes(pickle.dumps(raw))
    return raw


def held_out_predictions(run: Path, threads: int | None):
    """The run's held-out gold clauses and the model's raw spans of them."""
    from govreport_ner.commands.config import gold_settings
    from govreport_ner.data.gold import load_gold_splits

    data = OmegaConf.load(run / "config.yaml").data
    holdout = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["holdout"]
    test = load_gold_splits(gold_settings(data, holdout=holdout))["test"]
    return test, raw_predictions(run, test["text"], threads)


def fold_scores(run: Path, variants: dict, threads: int | None) -> dict[str, dict[str, float]]:
    """Strict micro and per-label F1 of every variant on the run's held-out clauses."""
    from govreport_ner.data.dataset import example_spans
    from govreport_ner.evaluate.metrics import entity_scores

    test, raw = held_out_predictions(run, threads)
    keys, gold = test["id"], [example_spans(e) for e in test]
    scores = {}
    for name, snap in variants.items():
        predicted = [snap(text, spans) for text, spans in zip(test["text"], raw, strict=True)]
        strict = entity_scores(zip(keys, gold, strict=True), zip(keys, predicted, strict=True))["strict"]
        scores[name] = {"micro": strict["micro"]["f1"], **{k: v["f1"] for k, v in strict["per_label"].items()}}
    return scores


def main() -> None:
    from govreport_ner.extract.snap import snap_spans

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--against", help="a git revision whose snap.py is compared too")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    variants = {"none": lambda text, spans: sorted(spans)}
    if args.against:
        variants[f"snap@{args.against}"] = snap_at(args.against)
    variants["snap"] = snap_spans
    folds = {}
    for run in args.runs:
        if not (run / "metrics.json").is_file():
            print(f"skipped {run}: not a finished training run (no metrics.json)", file=sys.stderr)
            continue
        folds[str(run)] = fold_scores(run, variants, args.threads)
        print(run, {v: round(s["micro"], 4) for v, s in folds[str(run)].items()}, file=sys.stderr, flush=True)
    metrics = next(iter(folds.values()))["snap"].keys()
    summary = {
        variant: {
            m: {
                "mean": statistics.fmean(vals := [f[variant][m] for f in folds.values()]),
                "std": statistics.pstdev(vals),
            }
            for m in metrics
        }
        for variant in variants
    }
    for variant in variants:
        print(
            f"{variant:>16} "
            + " ".join(f"{m} {summary[variant][m]['mean']:.3f}±{summary[variant][m]['std']:.3f}" for m in metrics)
        )
    if args.out:
        args.out.write_text(json.dumps({"folds": folds, "summary": summary}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
