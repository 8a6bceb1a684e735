"""End-to-end: planted personal values never reach an output, a log line or the catalogue.

Known values are planted in every personal column and in free text of the
demo tape and of the LendingClub file; both are run through the CLI with
verbose logging, and every output file (Parquet read back as text), the
model folder, the catalogue record and the captured output are scanned.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from sanhua.governance.catalogue import Catalogue

from .conftest import LENDINGCLUB, invoke, needs_lendingclub

pytestmark = pytest.mark.slow

# Header (cn-bank) -> planted value. The ID and card pass their check digits, so they are loaded, not quarantined.
CN_PLANTED = {
    "姓名": "植入测试人",
    "证件号码": "11010519491231002X",
    "手机号码": "13987654321",
    "电子邮箱": "planted.person@example.cn",
    "家庭住址": "植入省植入市植入路88号",
    "银行卡号": "6222020200112233446",
    "工作单位": "植入科技有限公司",
    "备注": "客户植入测试人称手机13987654321可联系",
    "催收备注": "联系植入测试人，电话13987654321",
    "联系人姓名": "植入联系人",
    "联系人电话": "13800001111",
}
# One customer number is replaced in every file that carries it, so its loans keep their borrower.
CN_PLANTED_CUSTOMER = "KH植入000001"
CN_SECRETS = [CN_PLANTED_CUSTOMER, "植入测试人", "11010519491231002X", "13987654321", "planted.person@example.cn", "植入省植入市植入路88号",
              "6222020200112233446", "植入科技有限公司", "植入联系人", "13800001111"]

LC_PLANTED = {
    "desc": "Please call Zhang Plantedname at 415-555-0199 or planted.lc@example.com",
    "emp_title": "Plantedcorp Holdings",
    "title": "Loan for Zhang Plantedname",
    "zip_code": "PLANTEDZIP",
}
LC_SECRETS = ["Plantedname", "415-555-0199", "planted.lc@example.com", "Plantedcorp", "PLANTEDZIP"]


def _read_csv_any(path: Path) -> tuple[pl.DataFrame, str]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pl.read_csv(text.encode("utf-8"), infer_schema_length=0), encoding
    raise AssertionError(f"cannot decode {path}")


def _plant_folder(source: Path, target: Path, planted: dict[str, str], rows: int = 25) -> int:
    target.mkdir(parents=True)
    borrowers, _ = _read_csv_any(source / "borrowers.csv")
    customer = borrowers["客户编号"][0]
    count = 0
    for path in sorted(source.iterdir()):
        frame, encoding = _read_csv_any(path)
        if "客户编号" in frame.columns:
            frame = frame.with_columns(
                pl.when(pl.col("客户编号") == customer).then(pl.lit(CN_PLANTED_CUSTOMER)).otherwise(pl.col("客户编号")).alias("客户编号")
            )
        columns = [c for c in planted if c in frame.columns]
        if columns:
            n = min(rows, frame.height)
            index = pl.int_range(pl.len())
            frame = frame.with_columns([pl.when(index < n).then(pl.lit(planted[c])).otherwise(pl.col(c)).alias(c) for c in columns])
            count += len(columns)
        data = frame.write_csv().encode("gb18030" if encoding == "gb18030" else "utf-8")
        (target / path.name).write_bytes(data)
    return count


def _texts(folder: Path) -> list[tuple[str, str]]:
    texts = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            texts.append((str(path), frame.select(pl.all().cast(pl.Utf8)).write_csv()))
        elif path.suffix == ".xlsx":
            # An xlsx file is compressed: read its cells, or a planted value inside would pass unseen.
            book = openpyxl.load_workbook(path, read_only=True)
            cells = [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
            texts.append((str(path), "\n".join(cells)))
        else:
            texts.append((str(path), path.read_bytes().decode("utf-8", errors="replace")))
    return texts


def _assert_clean(texts: list[tuple[str, str]], secrets: list[str]) -> None:
    for name, text in texts:
        for secret in secrets:
            assert secret not in text, f"personal value planted as {secret!r} found in clear in {name}"


def test_demo_run_leaks_no_planted_value(demo_run, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    out, _ = demo_run
    planted = tmp_path / "tape"
    assert _plant_folder(out / "data" / "tape", planted, CN_PLANTED) >= len(CN_PLANTED)

    run_dir = tmp_path / "run"
    result = invoke(["run", planted, "--profile", "cn-bank", "--model", out / "model", "--out", run_dir, "--verbose"])
    assert result.exit_code == 0, result.stderr

    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    catalogue_text = json.dumps(Catalogue().show(record["run_id"]), ensure_ascii=False)
    texts = _texts(run_dir) + _texts(out / "model") + [
        ("stdout", result.stdout), ("stderr", result.stderr), ("catalogue", catalogue_text), ("log records", caplog.text),
    ]
    assert "sanhua.pipeline" in caplog.text, "no log record captured: the log scan would prove nothing"
    _assert_clean(texts, CN_SECRETS)


@needs_lendingclub
def test_lendingclub_run_leaks_no_planted_value(session_env, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    frame = pl.read_csv(LENDINGCLUB, infer_schema_length=0)
    frame = frame.with_columns([pl.lit(value).alias(column) for column, value in LC_PLANTED.items()])
    planted = tmp_path / "lendingclub_planted.csv"
    frame.write_csv(planted)

    model_dir = tmp_path / "model"
    fitted = invoke(["fit", planted, "--profile", "lendingclub", "--where", "issue_d < '2010-01-01'", "--out", model_dir, "--verbose"])
    assert fitted.exit_code == 0, fitted.stderr
    run_dir = tmp_path / "run"
    result = invoke(["run", planted, "--profile", "lendingclub", "--where", "issue_d >= '2010-01-01'", "--model", model_dir, "--out", run_dir, "--verbose"])
    assert result.exit_code == 0, result.stderr

    texts = _texts(run_dir) + _texts(model_dir) + [
        ("fit stdout", fitted.stdout), ("fit stderr", fitted.stderr), ("stdout", result.stdout), ("stderr", result.stderr),
        ("log records", caplog.text),
    ]
    _assert_clean(texts, LC_SECRETS)
