"""``scripts/predict.py``: batch inference from the ``predict`` config."""

from __future__ import annotations

import json
import time
from pathlib import Path

from govreport_ner.predict.batch import check_batch, run_batch
from govreport_ner.predict.predictors import ENGINES, load_predictor, predictor_options
from govreport_ner.predict.writers import make_writer
from govreport_ner.text.inputs import parse_shard


def predict_command(cfg) -> int:
    """``scripts/predict.py``: load the predictor, run the batch, print the summary; returns the exit code."""
    make_writer(cfg.format, cfg.per)  # a bad setting fails before the model loads
    parse_shard(cfg.shard)
    if cfg.engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {cfg.engine!r}")
    inputs = cfg.inputs
    if not isinstance(inputs, (str, Path)):
        inputs = [str(p) for p in inputs]
    check_batch(inputs, cfg.output)  # missing inputs, output = input, not JSON Lines: before the model loads
    if cfg.get("runner", "local") == "ray":  # configs/runner/ray.yaml: the same batch on Ray Data
        from govreport_ner.predict.ray_runner import run_ray

        options = (cfg.format, cfg.resume, cfg.shard, cfg.per, cfg.progress)
        return _report(cfg, run_ray(predictor_options(cfg), inputs, cfg.output, *options, **cfg.ray))
    started = time.perf_counter()
    predictor = load_predictor(cfg)
    load_seconds = time.perf_counter() - started
    summary = run_batch(
        predictor,
        inputs,
        cfg.output,
        fmt=cfg.format,
        resume=cfg.resume,
        shard=cfg.shard,
        buffer_chars=cfg.buffer_chars,
        buffer_docs=cfg.buffer_docs,
        per=cfg.per,
        progress=cfg.progress,
    )
    summary.load_seconds = load_seconds
    return _report(cfg, summary)


def _report(cfg, summary) -> int:
    """Print the summary (and write it to ``summary_file``); the exit code."""
    print(summary.format_text(), flush=True)
    if cfg.summary_file:
        path = Path(cfg.summary_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return summary.exit_code
