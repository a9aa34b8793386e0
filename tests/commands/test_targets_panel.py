"""``scripts/targets.py``: the panel of targets for a small hand-written corpus (issue 11 item 5)."""

from __future__ import annotations

import csv
import json

from hydra import compose, initialize_config_dir

from govreport_ner.commands.config import CONFIG_DIR
from govreport_ner.commands.targets import PANEL_COLUMNS, targets_command

REPORT = """各位代表：
一、2023年工作回顾
过去一年，全市地区生产总值增长6.2%。
二、2024年总体要求和主要目标
今年本市发展的主要预期目标是：地区生产总值增长{gdp}%左右，城镇新增就业{jobs}万人以上。
三、2024年重点工作
到2025年建成智慧停车位1万个。
"""


def _corpus(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "甲市.txt").write_text(REPORT.format(gdp=5.5, jobs=4.5), encoding="utf-8")
    (folder / "乙县.txt").write_text(REPORT.format(gdp=6, jobs=1.2), encoding="utf-8")
    (folder / "INDEX.tsv").write_text("file\tregion\tprovince\tyear\n甲市.txt\t甲市\t某省\t2024\n", encoding="utf-8")
    return folder


def _cfg(*overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("targets", overrides=list(overrides))


def _rows(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_panel_from_a_report_folder(tmp_path, capsys):
    folder = _corpus(tmp_path)
    out = tmp_path / "out" / "targets.csv"
    assert targets_command(_cfg(f"inputs={folder}", f"output={out}")) == 0
    rows = _rows(out)
    assert tuple(rows[0]) == PANEL_COLUMNS
    gdp = [r for r in rows if r["indicator_id"] == "gdp_growth" and r["headline"] == "True"]
    assert [(r["doc"], r["region"], r["province"], r["year"], r["value"], r["comparator"]) for r in gdp] == [
        ("乙县", "", "", "2024", "6", "~"),
        ("甲市", "甲市", "某省", "2024", "5.5", "~"),
    ]
    jobs = [r for r in rows if r["indicator_id"] == "new_urban_jobs" and r["kind"] == "target"]
    assert sorted(r["value"] for r in jobs) == ["12000", "45000"]
    parked = [r for r in rows if r["quantity"] == "1万"]
    assert {r["year"] for r in parked} == {"2025"}  # from its deadline, not the metadata
    assert out.with_suffix(".png").stat().st_size > 0
    assert "gdp_growth" in out.with_suffix(".md").read_text(encoding="utf-8")
    assert out.with_suffix(".parquet").exists()


def test_panel_from_a_predict_jsonl_matches(tmp_path):
    from govreport_ner.predict.protocol import RulePredictor
    from govreport_ner.predict.writers import document_record
    from govreport_ner.text.reader import read_report

    folder = _corpus(tmp_path)
    jsonl = tmp_path / "pred.jsonl"
    predictor = RulePredictor()
    with jsonl.open("w", encoding="utf-8") as handle:
        for path in sorted(folder.glob("*.txt")):
            doc = read_report(path)
            ((clauses, spans),) = predictor.tag_documents([doc.text])
            handle.write(json.dumps(document_record(doc, spans, "rules", clauses), ensure_ascii=False) + "\n")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert targets_command(_cfg(f"inputs={folder}", f"output={a}", "parquet=false")) == 0
    assert targets_command(_cfg(f"inputs={jsonl}", f"output={b}", "parquet=false")) == 0
    assert _rows(a) == _rows(b)
    assert not b.with_suffix(".parquet").exists()


def test_missing_input_is_an_error(tmp_path, capsys):
    assert targets_command(_cfg(f"inputs={tmp_path / 'nope'}", f"output={tmp_path / 't.csv'}")) == 2
    assert "no such input" in capsys.readouterr().out
    assert not (tmp_path / "t.csv").exists()
