"""Readers: every format and encoding to the same text frame, and clear errors."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from sanhua.errors import InputFileError
from sanhua.tape.readers import find_table_file, iter_file, read_file

HEADER = ["贷款编号", "客户编号", "发放日期", "剩余本金"]
ROWS = [
    ["L1", "C1", "2023年5月1日", "1,234.50元"],
    ["L2", "C2", "2023/5/1", "２０００"],
    ["L3", "C3", "20230501", "3000"],
]
EXPECTED = ["贷款编号", "客户编号", "发放日期", "剩余本金"]


def _csv_text(title_rows: list[str] = ()) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for title in title_rows:
        writer.writerow([title])
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("encoding", "detected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")]
)
def test_csv_encodings_detected(tmp_path, encoding, detected):
    path = tmp_path / "loans.csv"
    path.write_bytes(_csv_text().encode(encoding))
    frame, info = read_file(path, "loans", EXPECTED)
    assert info.encoding == detected
    assert frame.columns == ["source_row", *HEADER]
    assert frame.drop("source_row").rows() == [tuple(r) for r in ROWS]
    assert frame.get_column("source_row").to_list() == [1, 2, 3]
    assert info.format == "csv"
    assert len(info.sha256) == 64


def test_csv_title_rows_skipped(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_bytes(_csv_text(["XX银行个人不良贷款清单", "数据日期：2024年6月30日"]).encode("gb18030"))
    frame, info = read_file(path, "loans", EXPECTED)
    assert info.title_rows_skipped == 2
    assert frame.height == 3
    assert frame.item(0, "贷款编号") == "L1"


def test_gbk_after_ascii_head_falls_back(tmp_path):
    # The first megabyte is ASCII, so it sniffs as UTF-8; a later GBK byte must not break the read.
    ascii_rows = "".join(f"L{i},C{i},2023-05-01,100\r\n" for i in range(70_000))
    text = ",".join(HEADER) + "\r\n" + ascii_rows + "L9,C9,2023-05-01,一百\r\n"
    path = tmp_path / "loans.csv"
    path.write_bytes(text.encode("gbk"))
    frame, info = read_file(path, "loans", EXPECTED)
    assert info.encoding == "gb18030"
    assert frame.item(-1, "剩余本金") == "一百"


def test_forced_wrong_encoding_says_fix(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_bytes(_csv_text().encode("gbk"))
    with pytest.raises(InputFileError, match="--encoding gb18030"):
        read_file(path, "loans", EXPECTED, encoding="utf-8")


def test_unknown_encoding(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_bytes(_csv_text().encode("utf-8"))
    with pytest.raises(InputFileError, match="unknown encoding"):
        read_file(path, "loans", EXPECTED, encoding="klingon")


def test_gzip_csv(tmp_path):
    path = tmp_path / "loans.csv.gz"
    path.write_bytes(gzip.compress(_csv_text().encode("utf-8")))
    frame, info = read_file(path, "loans", EXPECTED)
    assert info.format == "csv.gz"
    assert frame.height == 3


def test_xlsx_with_two_title_rows(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["XX银行个人不良贷款清单"])
    sheet.merge_cells("A1:D1")
    sheet.append(["数据日期：2024年6月30日"])
    sheet.append(HEADER)
    sheet.append(["L1", "C1", date(2023, 5, 1), 1234.5])
    sheet.append(["L2", "C2", datetime(2023, 5, 1, 10, 30), "1,234.50元"])
    sheet.append([None, None, None, None])
    sheet.append(["L3", "C3", 45047, 3000])
    path = tmp_path / "loans.xlsx"
    workbook.save(path)

    frame, info = read_file(path, "loans", EXPECTED)
    assert info.format == "xlsx"
    assert info.title_rows_skipped == 2
    assert frame.columns == ["source_row", *HEADER]
    assert frame.get_column("贷款编号").to_list() == ["L1", "L2", None, "L3"]
    assert frame.get_column("source_row").to_list() == [1, 2, 3, 4]
    assert frame.get_column("发放日期").to_list()[:2] == ["2023-05-01 00:00:00", "2023-05-01 10:30:00"]
    assert frame.schema["剩余本金"] == pl.String


def test_parquet_typed_columns_become_text(tmp_path):
    path = tmp_path / "loans.parquet"
    pl.DataFrame(
        {"贷款编号": ["L1", "L2"], "发放日期": [date(2023, 5, 1), None], "剩余本金": [1234.5, 10.0], "客户编号": ["C1", "C2"]}
    ).write_parquet(path)
    frame, info = read_file(path, "loans", EXPECTED)
    assert info.format == "parquet"
    assert frame.get_column("发放日期").to_list() == ["2023-05-01", None]
    assert frame.get_column("剩余本金").to_list() == ["1234.5", "10.0"]


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_file(tmp_path / "absent.csv", "loans", EXPECTED)


def test_empty_file(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_bytes(b"")
    with pytest.raises(InputFileError, match="is empty"):
        read_file(path, "loans", EXPECTED)


def test_old_excel_format(tmp_path):
    path = tmp_path / "loans.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(InputFileError, match="save it as .xlsx"):
        read_file(path, "loans", EXPECTED)


def test_no_matching_header_lists_found(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text("loan,balance\r\nL1,100\r\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="columns missing: 贷款编号; found: loan, balance; check --profile"):
        read_file(path, "loans", EXPECTED)


def test_broken_xlsx(tmp_path):
    path = tmp_path / "loans.xlsx"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InputFileError, match="not a readable .xlsx"):
        read_file(path, "loans", EXPECTED)


@pytest.mark.parametrize(("encoding", "compress"), [("utf-8", False), ("gb18030", False), ("utf-8-sig", True)])
def test_chunks_number_rows_continuously(tmp_path, encoding, compress):
    rows = [f"L{i},C{i},2023-05-01,{i}元" for i in range(1, 1001)]
    data = ("标题\r\n" + ",".join(HEADER) + "\r\n" + "\r\n".join(rows) + "\r\n").encode(encoding)
    path = tmp_path / ("loans.csv.gz" if compress else "loans.csv")
    path.write_bytes(gzip.compress(data) if compress else data)
    info, chunks = iter_file(path, "loans", EXPECTED, chunk_rows=300)
    frames = list(chunks)
    assert info.title_rows_skipped == 1
    joined = pl.concat(frames)
    assert joined.get_column("source_row").to_list() == list(range(1, 1001))
    assert joined.get_column("贷款编号").to_list() == [f"L{i}" for i in range(1, 1001)]
    assert joined.item(0, "剩余本金") == "1元"


def test_chunks_parquet(tmp_path):
    path = tmp_path / "loans.parquet"
    pl.DataFrame({"贷款编号": [f"L{i}" for i in range(1000)], "剩余本金": list(range(1000))}).write_parquet(path)
    _, chunks = iter_file(path, "loans", EXPECTED, chunk_rows=256)
    joined = pl.concat(list(chunks))
    assert joined.get_column("source_row").to_list() == list(range(1, 1001))


def test_find_table_file(tmp_path):
    (tmp_path / "loans.csv").write_text("x")
    (tmp_path / "borrowers.xlsx").write_text("x")
    (tmp_path / "notes.md").write_text("x")
    assert find_table_file(tmp_path, "loans") == tmp_path / "loans.csv"
    assert find_table_file(tmp_path, "borrowers") == tmp_path / "borrowers.xlsx"
    assert find_table_file(tmp_path, "repayments") is None
    (tmp_path / "loans.parquet").write_text("x")
    with pytest.raises(InputFileError, match="keep one"):
        find_table_file(tmp_path, "loans")
