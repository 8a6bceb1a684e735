"""cn-bank files: headers and codes from the profile, GBK round trip, values that parse back."""

from __future__ import annotations

import io
import tomllib

import numpy as np
import polars as pl
import pytest

from sanhua.demo import write_cn_bank
from sanhua.demo.cn_bank import PROFILE_PATH, format_table
from sanhua.errors import ConfigError, ProfileError
from sanhua.tape.schema import TABLE_NAMES, TABLES

PROFILE = tomllib.loads(PROFILE_PATH.read_text(encoding="utf-8"))


def _read_gbk(path) -> pl.DataFrame:
    text = path.read_bytes().decode("gbk")
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def _parse_amount(text: pl.Series) -> pl.Series:
    return text.str.replace_all(",", "").str.strip_suffix("元").replace("", None).cast(pl.Float64)


def _parse_date(text: pl.Series) -> pl.Series:
    iso = text.str.to_date("%Y-%m-%d", strict=False)
    chinese = text.str.to_date("%Y年%m月%d日", strict=False)
    slashed = text.str.to_date("%Y/%m/%d", strict=False)
    return pl.select(pl.coalesce(iso, chinese, slashed)).to_series()


@pytest.fixture(scope="module")
def written(small, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cn_bank")
    history = write_cn_bank(small.history, folder / "history")
    tape = write_cn_bank(small.tape, folder / "tape")
    return {"history": history, "tape": tape}


def test_every_table_written(written):
    assert sorted(p.stem for p in written["history"]) == sorted(TABLE_NAMES)
    assert sorted(p.stem for p in written["tape"]) == sorted(set(TABLE_NAMES) - {"outcomes"})


def test_headers_match_profile(written):
    for path in written["history"] + written["tape"]:
        expected = list(PROFILE["tables"][path.stem]["columns"].values())
        assert _read_gbk(path).columns == expected, path.name


def test_files_round_trip_gbk(written):
    for path in written["history"] + written["tape"]:
        raw = path.read_bytes()
        assert raw.decode("gbk").encode("gbk") == raw, path.name
        with pytest.raises(UnicodeDecodeError):
            raw.decode("ascii")


def test_codes_are_profile_values(written):
    for path in written["history"] + written["tape"]:
        spec = PROFILE["tables"][path.stem]
        frame = _read_gbk(path)
        for canonical, mapping in spec.get("codes", {}).items():
            header = spec["columns"][canonical]
            values = set(frame[header].drop_nulls().unique().to_list()) - {""}
            assert values, f"{path.name}: {header} is empty"
            assert values <= set(mapping), f"{path.name}: {header} has {values - set(mapping)}"


def test_loans_parse_back(small, written):
    path = next(p for p in written["history"] if p.stem == "loans")
    frame = _read_gbk(path)
    canonical = small.history["loans"]
    headers = PROFILE["tables"]["loans"]["columns"]
    for column in ("principal_outstanding", "interest_outstanding", "fees_outstanding", "installment"):
        parsed = _parse_amount(frame[headers[column]])
        assert np.allclose(parsed.to_numpy(), canonical[column].to_numpy(), atol=0.005), column
    for column in ("default_date", "as_of_date", "origination_date"):
        assert _parse_date(frame[headers[column]]).equals(canonical[column], null_equal=True), column
    rate = frame[headers["interest_rate"]].str.strip_suffix("%").cast(pl.Float64) / 100
    assert np.allclose(rate.to_numpy(), canonical["interest_rate"].to_numpy())
    assert frame[headers["dpd"]].cast(pl.Int32).equals(canonical["dpd"])


def test_bank_formats_present(written):
    loans = _read_gbk(next(p for p in written["history"] if p.stem == "loans"))
    dates = loans["违约日期"]
    assert dates.str.contains("年").any()
    assert dates.str.contains("/").any()
    assert dates.str.contains(r"^\d{4}-\d{2}-\d{2}$").mean() > 0.8
    assert loans["剩余本金"].str.contains(",").any()
    assert loans["执行利率"].str.ends_with("%").any()
    assert loans["币种"].unique().to_list() == ["人民币"]


def test_legacy_ids_written_as_resident_id(small, written):
    borrowers = _read_gbk(next(p for p in written["history"] if p.stem == "borrowers"))
    legacy = borrowers.filter(pl.col("证件号码").str.len_chars() == 15)
    assert legacy.height == (small.history["borrowers"]["id_type"] == "resident_id_15").sum()
    assert set(legacy["证件类型"].unique()) == {"居民身份证"}


def test_parquet_keeps_types(small, tmp_path):
    paths = write_cn_bank({"loans": small.history["loans"]}, tmp_path, fmt="parquet")
    frame = pl.read_parquet(paths[0])
    assert frame["违约日期"].dtype == pl.Date
    assert np.allclose(frame["执行利率"].to_numpy(), small.history["loans"]["interest_rate"].to_numpy() * 100)
    assert set(frame["五级分类"].unique()) <= set(PROFILE["tables"]["loans"]["codes"]["five_tier"])


def test_unknown_code_rejected(small):
    loans = small.history["loans"].with_columns(pl.lit("yacht").alias("product"))
    with pytest.raises(ProfileError, match="yacht"):
        format_table("loans", loans)


def test_bad_arguments_rejected(small, tmp_path):
    with pytest.raises(ConfigError, match="fmt"):
        write_cn_bank(small.history, tmp_path, fmt="xls")
    with pytest.raises(ConfigError, match="encoding"):
        write_cn_bank(small.history, tmp_path, encoding="big5")


def test_unencodable_character_named(small, tmp_path):
    loans = small.history["loans"].with_columns(pl.lit("笔记\U0001F600").alias("note"))
    with pytest.raises(ConfigError, match="line 2"):
        write_cn_bank({"loans": loans}, tmp_path, encoding="gbk")


def test_schema_columns_not_in_profile_skipped(small, written):
    loans = _read_gbk(next(p for p in written["history"] if p.stem == "loans"))
    assert len(loans.columns) == len(TABLES["loans"].columns) - 1
