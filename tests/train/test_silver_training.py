"""scripts/silver.py labels a corpus with a fold checkpoint; training takes that silver first or beside the gold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from govreport_ner.commands.config import CONFIG_DIR, settings_from
from govreport_ner.commands.silver import silver_command
from govreport_ner.commands.train import train_command
from govreport_ner.data.silver import (
    Labeller,
    SilverError,
    SilverPolicy,
    load_silver_tasks,
    read_silver,
    silver_record,
    write_silver,
)
from tests.helpers import compose_train, seed_gold_holding_out_dongxing, span_of

pytestmark = pytest.mark.slow  # trains the tiny model

CLAUSE = "年底前新建公园12个，实施城市更新行动。"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two made-up reports: one of 甲省, one of 广西 (the province of the held-out 东兴市)."""
    folder = tmp_path_factory.mktemp("corpus")
    rows = ["file\tregion\tprovince\tyear\tcharacters\tnote"]
    for name, region, province in (("a.txt", "甲市", "甲省"), ("b.txt", "乙市", "广西")):
        text = "各位代表：\n" + CLAUSE * 3 + "\n今年主要预期目标是：地区生产总值增长6%左右。\n推进乡村振兴。\n"
        (folder / name).write_text(text, encoding="utf-8")
        rows.append(f"{name}\t{region}\t{province}\t2024\t{len(text)}\t")
    (folder / "INDEX.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def fold_checkpoint(tmp_path_factory) -> Path:
    """A tiny model trained on the seed gold with 东兴市 held out."""
    out = tmp_path_factory.mktemp("ckpt")
    cfg = compose_train(["+experiment=smoke", "trainer.max_steps=2", *seed_gold_holding_out_dongxing(out)])
    train_command(cfg)
    return out


def run_silver(checkpoint: Path, corpus: Path, output: Path) -> dict:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(
            "silver",
            overrides=[f"checkpoint={checkpoint}", f"output={output}", f"corpus_dir={corpus}", "engine=torch"],
        )
    return silver_command(cfg)


def test_silver_leaves_out_the_held_out_province_and_resumes(fold_checkpoint, corpus, tmp_path, capsys):
    summary = run_silver(fold_checkpoint, corpus, tmp_path)
    assert summary["labeller"]["held_out_regions"] == ["东兴市"] and summary["left_out_provinces"] == ["广西"]
    assert summary["documents"] == 1 and summary["failed"] == []
    assert (tmp_path / "a.json").is_file() and not (tmp_path / "b.json").exists()
    record = read_silver(tmp_path / "a.json")
    assert len(record["clauses"]) == summary["clauses_kept"] <= summary["clauses_seen"]
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["documents"] == 1
    assert "silver: 1 documents labelled" in capsys.readouterr().out
    again = run_silver(fold_checkpoint, corpus, tmp_path)
    assert again["documents_already_labelled"] == 1 and "documents" not in again


def test_the_folder_silver_py_writes_is_what_training_reads(fold_checkpoint, corpus, tmp_path):
    """The summary beside the records is not taken for a record."""
    summary = run_silver(fold_checkpoint, corpus, tmp_path)
    tasks = load_silver_tasks(tmp_path, corpus, ["东兴市"])
    assert (tmp_path / "summary.json").is_file() and len(tasks) == summary["clauses_kept"]


def test_an_unreadable_report_is_listed_and_the_others_still_labelled(fold_checkpoint, corpus, tmp_path, capsys):
    broken = tmp_path / "corpus"
    shutil.copytree(corpus, broken)
    (broken / "c.txt").write_bytes(bytes(range(128, 256)) * 4)  # no encoding reads it
    with (broken / "INDEX.tsv").open("a", encoding="utf-8") as index:
        index.write("c.txt\t丙市\t丙省\t2024\t512\t\n")
    summary = run_silver(fold_checkpoint, broken, tmp_path / "silver")
    assert summary["documents"] == 1 and len(summary["failed"]) == 1 and summary["failed"][0].startswith("c.txt")
    assert (tmp_path / "silver" / "a.json").is_file()
    assert "FAILED c.txt" in capsys.readouterr().out


def hand_silver(corpus: Path, folder: Path, held_out: tuple[str, ...]) -> Path:
    """Silver written here (the tiny model's own labels are noise): the three clauses of a.txt."""
    text = (corpus / "a.txt").read_text(encoding="utf-8")
    spans = [span_of(CLAUSE, "年底前", "DEADLINE"), span_of(CLAUSE, "12", "QUANTITY"), span_of(CLAUSE, "个", "UNIT")]
    starts = [text.index(CLAUSE) + i * len(CLAUSE) for i in range(3)]
    clauses = [(start, start + len(CLAUSE), spans) for start in starts]
    record = silver_record("a.txt", text, "甲市", "甲省", 2024, clauses, Labeller("hand", held_out), _policy())
    write_silver(folder / "a.json", record)
    return folder


def _policy() -> SilverPolicy:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return settings_from(SilverPolicy, compose("silver", overrides=["checkpoint=x", "output=y"]).policy)


def silver_run(tmp_path: Path, corpus: Path, silver: Path, *overrides: str) -> list[str]:
    return [
        "+experiment=smoke",
        "trainer.max_steps=1",
        *seed_gold_holding_out_dongxing(tmp_path / "run"),
        f"data.corpus_dir={corpus}",
        f"silver.dir={silver}",
        *overrides,
    ]


@pytest.mark.parametrize("mode", ["pretrain", "mix"])
def test_training_takes_the_silver_first_or_beside_the_gold(mode, corpus, tmp_path):
    silver = hand_silver(corpus, tmp_path / "silver", ("东兴市",))
    gold_only = train_command(compose_train(silver_run(tmp_path / "g", corpus, silver, "silver.dir=null")))
    metrics = train_command(compose_train(silver_run(tmp_path, corpus, silver, f"silver.mode={mode}")))
    assert metrics["silver_clauses"] == 3 and "silver_clauses" not in gold_only
    if mode == "pretrain":  # a whole epoch over the silver, then the gold's one step
        assert metrics["silver_windows"] == 3 and metrics["train_steps"] == 1
        assert (tmp_path / "run" / "silver" / "tensorboard").is_dir()
        assert not (tmp_path / "run" / "silver" / "checkpoints").exists()
        assert metrics["train_windows"] == gold_only["train_windows"]
        card = (tmp_path / "run" / "model" / "README.md").read_text(encoding="utf-8")
        assert "Silver data" in card and "3 clauses, 1 epoch(s) on it before the gold" in card
        assert "Silver data" not in (tmp_path / "g" / "run" / "model" / "README.md").read_text(encoding="utf-8")
    else:
        assert metrics["train_windows"] == gold_only["train_windows"] + 3


def test_a_crf_learns_from_partial_silver(corpus, tmp_path):
    """Silver's O leaves PROJECT/PROGRAM open; the CRF sums over them (a finite loss, the silver epoch done)."""
    silver = hand_silver(corpus, tmp_path / "silver", ("东兴市",))
    metrics = train_command(compose_train(silver_run(tmp_path, corpus, silver, "model.crf=true")))
    assert metrics["silver_windows"] == 3 and metrics["train_steps"] == 1
    for stage in (tmp_path / "run" / "silver", tmp_path / "run"):
        log = [json.loads(line) for line in (stage / "train_log.jsonl").read_text().splitlines()]
        losses = [row["loss"] for row in log if "loss" in row]
        assert losses and all(0 <= loss < 1e4 for loss in losses)  # finite, not the forbidden-path score


def test_silver_of_a_labeller_that_saw_the_held_out_gold_is_refused(corpus, tmp_path):
    silver = hand_silver(corpus, tmp_path / "silver", ("浚县",))
    with pytest.raises(SilverError, match="东兴市"):
        train_command(compose_train(silver_run(tmp_path, corpus, silver)))


def test_an_unknown_silver_mode_is_an_error(corpus, tmp_path):
    with pytest.raises(ValueError, match="silver.mode must be one of pretrain, mix"):
        train_command(compose_train(silver_run(tmp_path, corpus, tmp_path, "silver.mode=both")))
