"""govreport_ner.text.seeds: the seed reports and their metadata table."""

from __future__ import annotations

import pytest

from govreport_ner.text.seeds import REQUIRED_COLUMNS, load_metadata, load_seed_documents

SEED_FILES = [
    "000_6c2b147dcb7daec6.txt",
    "001_0ee36ff5db9c33f8.txt",
    "002_4077b1414b525f47.txt",
    "003_1174e347716747d5.txt",
    "004_3529be8464540267.txt",
]
REGIONS = ["阳泉市郊区", "略阳县", "浚县", "齐齐哈尔市", "东兴市"]
YEARS = {
    "yangquan_jiaoqu_2023": 2023,
    "lueyang_2023": 2023,
    "xunxian_2022": 2022,
    "qiqihar_2022": 2022,
    "dongxing_2023": 2023,
}


@pytest.fixture(scope="module")
def seed_dir(repo_root):
    return repo_root / "seeds"


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


def test_regions_csv_lists_the_five_seed_files(seed_dir):
    metadata = load_metadata(seed_dir / "regions.csv")
    assert list(metadata) == list(YEARS)
    assert [m.file for m in metadata.values()] == SEED_FILES
    assert sorted(p.name for p in seed_dir.glob("*.txt")) == SEED_FILES
    assert [m.region for m in metadata.values()] == REGIONS
    assert {m.year for m in metadata.values()} == {2022, 2023}
    assert {doc_id: m.year for doc_id, m in metadata.items()} == YEARS
    for doc_id, meta in metadata.items():
        assert meta.doc_id == doc_id
        assert doc_id.endswith(str(meta.year))
        assert meta.province and meta.level
    assert metadata["qiqihar_2022"].prefecture == ""  # a prefecture city has none above it
    assert metadata["xunxian_2022"].prefecture == "鹤壁市"
    assert metadata["xunxian_2022"].province == "河南"


def test_every_seed_file_exists_and_reads(seed_dir):
    pairs = load_seed_documents(seed_dir)
    assert [meta.doc_id for _, meta in pairs] == list(YEARS)
    for doc, meta in pairs:
        assert doc.id == meta.doc_id
        assert doc.source.endswith(meta.file)
        assert doc.encoding == "utf-8"  # the README: UTF-8 with LF line endings
        assert "\r" not in doc.text
        assert len(doc.text) > 1000
        assert doc.text.strip()
        assert doc.text.count("。") > 10


def test_config_matches_the_metadata(seed_dir, repo_root):
    from hydra import compose, initialize_config_dir

    from govreport_ner.commands.config import gold_settings
    from govreport_ner.data.gold import region_ids, resolve_holdout

    with initialize_config_dir(config_dir=str(repo_root / "configs"), version_base="1.3"):
        data_cfg = compose(config_name="build_dataset").data
    metadata = load_metadata(seed_dir / "regions.csv")
    assert [m.region for m in metadata.values()] == REGIONS
    # data.holdout may name regions by name or by their ASCII region_id (Hydra overrides need ASCII);
    # the regions and the labels are not repeated in the config (regions.csv and labels.LABELS are)
    ids = region_ids(data_cfg.seed_dir)
    assert all(ids[region] for region in REGIONS)
    for region in REGIONS:
        for alias in (region, ids[region]):
            assert resolve_holdout(gold_settings(data_cfg, holdout=alias)) == [region]
    assert "labels" not in data_cfg and "regions" not in data_cfg
    assert data_cfg.seed_dir == str(repo_root / "seeds") == str(seed_dir.resolve())


def test_missing_column_is_an_error(tmp_path):
    header = [c for c in REQUIRED_COLUMNS if c != "year"]
    path = write_csv(tmp_path / "regions.csv", header, [["d1", "a.txt", "浚县", "河南", "county"]])
    with pytest.raises(ValueError, match=r"missing columns \['year'\]") as info:
        load_metadata(path)
    assert str(path) in str(info.value)


def test_several_missing_columns_listed(tmp_path):
    path = write_csv(tmp_path / "regions.csv", ["doc_id", "file"], [])
    with pytest.raises(ValueError, match=r"missing columns \['region', 'province', 'level', 'year'\]"):
        load_metadata(path)


def test_duplicate_doc_id_is_an_error(tmp_path):
    rows = [["d1", "a.txt", "浚县", "河南", "county", "2022"], ["d1", "b.txt", "略阳县", "陕西", "county", "2023"]]
    path = write_csv(tmp_path / "regions.csv", list(REQUIRED_COLUMNS), rows)
    with pytest.raises(ValueError, match="duplicate doc_id 'd1'"):
        load_metadata(path)


def test_optional_columns_default_and_bad_year(tmp_path):
    path = write_csv(
        tmp_path / "regions.csv", list(REQUIRED_COLUMNS), [["d1", "a.txt", "浚县", "河南", "county", "2022"]]
    )
    (meta,) = load_metadata(path).values()
    assert (meta.doc_id, meta.file, meta.region, meta.year, meta.prefecture) == ("d1", "a.txt", "浚县", 2022, "")
    bad = write_csv(tmp_path / "bad.csv", list(REQUIRED_COLUMNS), [["d1", "a.txt", "浚县", "河南", "county", "去年"]])
    with pytest.raises(ValueError):
        load_metadata(bad)


def test_load_seed_documents_missing_file(tmp_path):
    write_csv(
        tmp_path / "regions.csv", list(REQUIRED_COLUMNS), [["d1", "absent.txt", "浚县", "河南", "county", "2022"]]
    )
    from govreport_ner.text.reader import ReportReadError

    with pytest.raises(ReportReadError, match="absent.txt"):
        load_seed_documents(tmp_path)


def test_load_seed_documents_other_encodings(tmp_path):
    text = "完成新造林1万亩。\r\n𠮷"
    (tmp_path / "gb.txt").write_bytes(text.encode("gb18030"))
    write_csv(tmp_path / "meta.csv", list(REQUIRED_COLUMNS), [["gb_2022", "gb.txt", "浚县", "河南", "county", "2022"]])
    ((doc, meta),) = load_seed_documents(tmp_path, metadata_file="meta.csv")
    assert (doc.id, doc.text, doc.encoding, meta.region) == ("gb_2022", text, "gb18030", "浚县")


def test_region_aliases(seed_dir):
    from govreport_ner.text import seeds

    if not hasattr(seeds, "region_aliases"):
        pytest.skip("seeds.region_aliases not present in this checkout")
    metadata = load_metadata(seed_dir / "regions.csv")
    aliases = seeds.region_aliases(metadata)
    for meta in metadata.values():
        assert aliases[meta.region] == meta.region
        assert aliases[meta.doc_id] == meta.region
        if meta.region_id:
            assert meta.region_id.isascii()
            assert aliases[meta.region_id] == meta.region
    assert set(aliases.values()) == set(REGIONS)
