"""``scripts/predict.py``: batch inference from the ``predict`` config."""

from __future__ import annotations

import json
import time
from pathlib import Path

from govreport_ner.predict.batch import DEFAULT_BUFFER_CHARS, DEFAULT_BUFFER_DOCS, run_batch
from govreport_ner.predict.predictors import ENGINES, load_predictor
from govreport_ner.predict.writers import make_writer
from govreport_ner.text.inputs import parse_shard


def predict_command(cfg) -> int:
    """``scripts/predict.py``: load the predictor, run the batch, print the summary; returns the exit code."""
    make_writer(cfg.get("format", "jsonl"), cfg.get("per", "document"))  # a bad setting fails before the model loads
    parse_shard(cfg.get("shard"))
    if cfg.get("engine", "torch") not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {cfg.engine!r}")
    started = time.perf_counter()
    predictor = load_predictor(cfg)
    load_seconds = time.perf_counter() - started
    inputs = cfg.inputs
    if not isinstance(inputs, (str, Path)):
        inputs = [str(p) for p in inputs]
    summary = run_batch(
        predictor,
        inputs,
        cfg.output,
        fmt=cfg.get("format", "jsonl"),
        resume=bool(cfg.get("resume", False)),
        shard=cfg.get("shard"),
        buffer_chars=int(cfg.get("buffer_chars", DEFAULT_BUFFER_CHARS)),
        buffer_docs=int(cfg.get("buffer_docs", DEFAULT_BUFFER_DOCS)),
        per=cfg.get("per", "document"),
        progress=bool(cfg.get("progress", True)),
    )
    summary.load_seconds = load_seconds
    print(summary.format_text(), flush=True)
    if cfg.get("summary_file"):
        path = Path(cfg.summary_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return summary.exit_code
