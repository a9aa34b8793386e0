"""How good silver would be: the silver policy applied to held-out gold clauses, scored against the gold.

python benchmarks/silver_precision.py runs/e5_small/holdout-fold-* --out reports/silver_precision.json

Each run is a fold checkpoint (``train.py`` output_dir); its model labels the clauses of its
held-out regions (raw predictions cached in ``<run>/raw_predictions.pkl``, as for
``ablate_snap.py``), snapped as ``predict.py`` does, beside the rules; ``configs/silver.yaml``'s
policy keeps or drops each clause. Reported per run, then mean ± std: the share of clauses kept,
the precision of the kept spans per label (what silver teaches wrong), their recall inside kept
clauses (what silver leaves as O though it is gold), and the model's own precision on all clauses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ablate_snap import held_out_predictions  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GROUPS = {"QUANTITY": "QUANTITY", "UNIT": "UNIT", "DEADLINE": "DEADLINE", "PROJECT": "NAME", "PROGRAM": "NAME"}


def precision(tp: int, fp: int) -> float:
    return tp / (tp + fp) if tp + fp else 0.0


def run_quality(run: Path, policy, threads: int | None) -> dict[str, float]:
    """Clause share kept, and per label group: silver precision, recall inside kept clauses, model precision."""
    from govreport_ner.data.dataset import example_spans
    from govreport_ner.data.silver import silver_clause
    from govreport_ner.extract.snap import snap_spans
    from govreport_ner.predict.protocol import RulePredictor

    test, raw = held_out_predictions(run, threads)
    rules = RulePredictor().predict_clauses(test["text"])
    counts, kept = Counter(), 0
    for example, spans, rule_spans in zip(test, raw, rules, strict=True):
        text, gold = example["text"], {(s.start, s.end, s.label) for s in example_spans(example)}
        model = snap_spans(text, spans)
        for s in model:
            counts[GROUPS[s.label], "model", (s.start, s.end, s.label) in gold] += 1
        silver = silver_clause(text, model, rule_spans, policy)
        if silver is None:
            continue
        kept += 1
        found = {(s.start, s.end, s.label) for s in silver}
        for key in found | gold:
            group = GROUPS[key[2]]
            counts[group, "tp" if key in found and key in gold else "fp" if key in found else "fn"] += 1
    row = {"clauses_kept": kept / len(test)}
    for group in dict.fromkeys(GROUPS.values()):
        tp, fp, fn = (counts[group, k] for k in ("tp", "fp", "fn"))
        row[f"silver_precision_{group}"] = precision(tp, fp)
        row[f"recall_in_kept_{group}"] = precision(tp, fn)
        row[f"model_precision_{group}"] = precision(counts[group, "model", True], counts[group, "model", False])
    return row


def main() -> None:
    from govreport_ner.commands.config import settings_from
    from govreport_ner.data.silver import SilverPolicy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--set", nargs="*", default=[], help="policy overrides: min_name_score=0.6 'name_heads=[]'")
    args = parser.parse_args()
    policy_cfg = OmegaConf.merge(
        OmegaConf.load(REPO / "configs" / "silver.yaml").policy, OmegaConf.from_dotlist(args.set)
    )
    policy = settings_from(SilverPolicy, policy_cfg)
    runs = {str(run): run_quality(run, policy, args.threads) for run in args.runs if (run / "metrics.json").is_file()}
    keys = next(iter(runs.values())).keys()
    summary = {
        k: {"mean": statistics.fmean(v := [r[k] for r in runs.values()]), "std": statistics.pstdev(v)} for k in keys
    }
    for key, cell in summary.items():
        print(f"{key:>28} {cell['mean']:.3f} ± {cell['std']:.3f}")
    if args.out:
        args.out.write_text(json.dumps({"policy": policy.to_dict(), "runs": runs, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
