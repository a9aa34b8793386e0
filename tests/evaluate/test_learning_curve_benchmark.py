"""benchmarks/learning_curve.py: a curve over shares of the training regions, on hand-made fold summaries."""

import importlib.util
import json
import statistics
from pathlib import Path

import pytest

from govreport_ner.labels import LABELS

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "learning_curve.py"


def _module():
    spec = importlib.util.spec_from_file_location("learning_curve", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


learning_curve = _module()
METRICS = ("micro_f1", *(f"f1_{label}" for label in LABELS))


def summary(per_fold: list[float]) -> dict:
    """An aggregate.py summary whose every metric scores ``per_fold`` on folds 0..n-1."""
    folds = {f"holdout-fold-{i}": {f"test_{m}": v for m in METRICS} for i, v in enumerate(per_fold)}
    stats = {"mean": statistics.fmean(per_fold), "std": statistics.pstdev(per_fold)}
    return {"folds": {"model": folds}, "summary": {"model": {m: dict(stats) for m in METRICS}}}


def test_gain_per_doubling_is_the_slope_on_log2_share():
    assert learning_curve.doubling_gain([0.25, 0.5, 1.0], [0.6, 0.7, 0.8]) == pytest.approx(0.1)
    assert learning_curve.doubling_gain([0.5, 1.0], [0.8, 0.78]) == pytest.approx(-0.02)
    with pytest.raises(ValueError, match="two different shares"):
        learning_curve.doubling_gain([1.0, 1.0], [0.8, 0.8])


def test_points_are_share_equals_path():
    assert learning_curve.parse_point("0.5=a/loro.json") == (0.5, Path("a/loro.json"))
    for bad in ("a/loro.json", "0=x", "1.5=x", "half=x"):
        with pytest.raises(ValueError, match="SHARE=loro.json"):
            learning_curve.parse_point(bad)


def test_curve_pairs_neighbouring_shares_fold_by_fold(tmp_path):
    points = {0.5: summary([0.70, 0.72, 0.74]), 1.0: summary([0.75, 0.76, 0.80]), 0.25: summary([0.6, 0.7, 0.65])}
    result = learning_curve.learning_curve(points)
    assert result["shares"] == [0.25, 0.5, 1.0]
    first, second = result["steps"]
    assert (first["from"], first["to"], second["from"], second["to"]) == (0.25, 0.5, 0.5, 1.0)
    step = second["differences"]["f1_PROGRAM"]
    assert step["mean"] == pytest.approx(0.05) and step["up"] == 3 and step["beyond_spread"]
    assert first["differences"]["micro_f1"]["down"] == 0 and first["differences"]["micro_f1"]["up"] == 3
    assert result["gain_per_doubling"]["f1_PROJECT"] > 0
    paths = {share: tmp_path / f"lc{share}.json" for share in points}
    for share, path in paths.items():
        path.write_text(json.dumps(points[share]), encoding="utf-8")
    out = tmp_path / "curve"
    assert learning_curve.main([f"{s}={p}" for s, p in paths.items()] + ["--out", str(out)]) == 0
    text = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| 0.5 -> 1 |" in text and "**+0.050**" in text
    assert out.with_suffix(".png").stat().st_size > 0 and json.loads(out.with_suffix(".json").read_text())["shares"]


def test_a_missing_summary_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        learning_curve.main([f"0.5={tmp_path / 'none.json'}", f"1={tmp_path / 'none.json'}"])
    assert "not found" in capsys.readouterr().err
