"""The error-analysis notebook runs top to bottom on a smoke checkpoint."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from govreport_ner.commands.config import CONFIG_DIR  # noqa: F401  (resolvers)

pytestmark = pytest.mark.slow  # runs a script, trains, or executes a notebook

ROOT = Path(__file__).resolve().parents[1]


def test_error_analysis_notebook_runs_on_the_smoke_checkpoint(tmp_path, monkeypatch):
    from hydra import compose, initialize_config_dir

    from govreport_ner.commands.train import train_command

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                "+experiment=smoke",
                "data.holdout=dongxing",
                f"output_dir={tmp_path}",
                f"data.gold={ROOT / 'annotations/gold'}",
                f"data.seed_dir={ROOT / 'seeds'}",
            ],
        )
    train_command(cfg)
    monkeypatch.setenv("GOVREPORT_CHECKPOINT", str(tmp_path))
    monkeypatch.setenv("GOVREPORT_ROOT", str(ROOT))
    notebook = nbformat.read(ROOT / "notebooks" / "error_analysis.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert "Strict entity scores" in text and "| errors | region |" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (tmp_path / "error_analysis_f1_by_region.png").exists()
