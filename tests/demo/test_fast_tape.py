"""Fast single-file loan tapes: layout, valid values, exact defect share, chunked writing."""

from __future__ import annotations

import io
import time
import tomllib

import polars as pl
import pytest

from sanhua.demo import DEFECT_KINDS, generate_loan_tape, loan_tape_defects, write_loan_tape
from sanhua.demo.cn_bank import PROFILE_PATH
from sanhua.errors import ConfigError

from .checks import luhn_valid, mod11_2_valid

PROFILE = tomllib.loads(PROFILE_PATH.read_text(encoding="utf-8"))
LOAN_HEADERS = list(PROFILE["tables"]["loans"]["columns"].values())
BORROWER_HEADERS = [h for h in PROFILE["tables"]["borrowers"]["columns"].values() if h != "客户编号"]


def _parses_as_date(text: pl.Series) -> pl.Series:
    return pl.select(
        pl.coalesce(
            text.str.to_date("%Y-%m-%d", strict=False),
            text.str.to_date("%Y年%m月%d日", strict=False),
            text.str.to_date("%Y/%m/%d", strict=False),
        ).is_not_null()
    ).to_series()


def _parses_as_amount(text: pl.Series) -> pl.Series:
    cleaned = text.str.replace_all(",", "").str.strip_suffix("元")
    return cleaned.str.contains(r"^-?\d+(\.\d+)?$")


def _found_defects(tape: pl.DataFrame) -> dict[str, pl.Series]:
    """Detect each defect kind independently of the generator."""
    resident = tape["证件类型"] == "居民身份证"
    long_id = tape["证件号码"].str.len_chars() == 18
    id_ok = pl.Series([mod11_2_valid(n) for n in tape["证件号码"].to_list()])
    ids = tape["贷款编号"]
    return {
        "bad_date": ~_parses_as_date(tape["违约日期"]),
        "bad_id_check": resident & long_id & ~id_ok,
        "bad_amount": ~_parses_as_amount(tape["剩余本金"]),
        "bad_code": ~tape["产品类型"].is_in(list(PROFILE["tables"]["loans"]["codes"]["product"])),
        "missing_id": ids == "",
        "duplicate_id": (ids != "") & ids.is_duplicated(),
    }


@pytest.fixture(scope="module")
def tape() -> pl.DataFrame:
    return generate_loan_tape(20_000, seed=7, broken_share=0.06)


def test_headers_are_loan_then_borrower_columns(tape):
    assert tape.columns == LOAN_HEADERS + BORROWER_HEADERS
    assert all(dtype == pl.Utf8 for dtype in tape.dtypes)


def test_exact_broken_share(tape):
    defects = loan_tape_defects(20_000, seed=7, broken_share=0.06)
    assert defects.height == 1200
    assert defects["row"].is_unique().all()
    assert set(defects["defect"].unique()) == set(DEFECT_KINDS)


def test_each_defect_detectable(tape):
    defects = loan_tape_defects(20_000, seed=7, broken_share=0.06)
    found = _found_defects(tape)
    for kind in DEFECT_KINDS:
        broken = defects.filter(pl.col("defect") == kind)
        expected = set(broken["row"].to_list())
        if kind == "duplicate_id":
            # A duplicate shows on the broken row and on the row whose id it copies.
            expected |= set(broken["source_row"].to_list())
        detected = set(found[kind].arg_true().to_list())
        assert detected == expected, f"{kind}: {len(detected ^ expected)} rows differ"


def test_intact_rows_are_valid(tape):
    broken = loan_tape_defects(20_000, seed=7, broken_share=0.06)["row"]
    intact = tape.with_row_index("row").filter(~pl.col("row").cast(pl.Int64).is_in(broken.implode())).drop("row")
    for column in intact.columns:
        if column not in ("到期日期", "期限(月)"):
            assert (intact[column] != "").all(), column
    checked = intact.filter(pl.col("证件号码").str.len_chars() == 18)
    assert all(mod11_2_valid(n) for n in checked["证件号码"].to_list())
    assert all(luhn_valid(c) for c in intact["银行卡号"].to_list())
    assert intact["手机号码"].str.contains(r"^1[3-9]\d{9}$").all()
    assert intact["贷款编号"].is_unique().all()
    assert (intact["逾期天数"].cast(pl.Int32) > 90).all()
    text = intact.write_csv()
    assert text.encode("gbk").decode("gbk") == text


def test_no_defects_when_share_zero():
    clean = generate_loan_tape(3_000, seed=3)
    found = _found_defects(clean)
    assert not any(series.any() for series in found.values())


def test_same_seed_same_tape():
    assert generate_loan_tape(2_000, seed=11, broken_share=0.1).equals(generate_loan_tape(2_000, seed=11, broken_share=0.1))
    assert not generate_loan_tape(2_000, seed=11).equals(generate_loan_tape(2_000, seed=12))


def test_chunked_csv_matches_rows(tmp_path):
    path = write_loan_tape(tmp_path / "tape.csv", 25_000, seed=5, broken_share=0.02, chunk_rows=10_000)
    frame = pl.read_csv(io.StringIO(path.read_bytes().decode("gbk")), infer_schema=False)
    assert frame.height == 25_000
    assert frame.columns == LOAN_HEADERS + BORROWER_HEADERS
    expected = sum(
        loan_tape_defects(rows, seed=5, broken_share=0.02, chunk=c).height
        for c, rows in enumerate((10_000, 10_000, 5_000))
    )
    found = _found_defects(frame.with_columns(pl.col(pl.Utf8).fill_null("")))
    ids = frame["贷款编号"].fill_null("")
    duplicated = ids.filter((ids != "") & ids.is_duplicated())
    found.pop("duplicate_id")
    duplicates = duplicated.len() - duplicated.n_unique()
    assert sum(int(series.sum()) for series in found.values()) + duplicates == expected


def test_first_chunk_equals_generated_tape(tmp_path):
    path = write_loan_tape(tmp_path / "tape.csv", 3_000, seed=9, broken_share=0.05, chunk_rows=10_000, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == generate_loan_tape(3_000, seed=9, broken_share=0.05).write_csv()


def test_parquet_tape(tmp_path):
    path = write_loan_tape(tmp_path / "tape.parquet", 12_000, seed=5, fmt="parquet", chunk_rows=5_000)
    frame = pl.read_parquet(path)
    assert frame.height == 12_000
    assert frame["贷款编号"].is_unique().all()


def test_invalid_arguments():
    with pytest.raises(ConfigError, match="broken_share"):
        generate_loan_tape(10, seed=1, broken_share=1.5)
    with pytest.raises(ConfigError, match="positive"):
        generate_loan_tape(0, seed=1)
    with pytest.raises(ConfigError, match="fmt"):
        write_loan_tape("x.xlsx", 10, seed=1, fmt="xlsx")


@pytest.mark.slow
def test_million_rows_in_seconds():
    started = time.perf_counter()
    tape = generate_loan_tape(1_000_000, seed=1, broken_share=0.01)
    elapsed = time.perf_counter() - started
    assert tape.height == 1_000_000
    # Measured about 5 s on a loaded 2-core machine; the bound leaves room for slow CI runners.
    assert elapsed < 30, f"1,000,000 rows took {elapsed:.1f} s"
