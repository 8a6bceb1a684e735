"""load_tape and iter_loan_chunks: the defect tape, conservation, invariance, folders, privacy."""

from __future__ import annotations

import csv
import io
import os
import random
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from fixtures.defect_tape import HEADERS, build_defect_tape, luhn_card, resident_id
from sanhua.errors import ConfigError, InputFileError, ProfileError
from sanhua.tape.load import QUARANTINE_COLUMNS, iter_loan_chunks, load_tape, write_quarantine
from sanhua.tape.privacy import Pseudonymiser, hmac_sha256_hex
from sanhua.tape.profile import load_profile

KEY = b"load-test-key-0123456789"
AS_OF = date(2024, 6, 30)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cn_bank():
    return load_profile("cn-bank")


@pytest.fixture(scope="module")
def pseudonymiser():
    return Pseudonymiser(KEY)


def _conserved(counts: dict) -> None:
    for table, count in counts.items():
        total = count["loaded"] + count["quarantined"] + sum(count["excluded"].values())
        assert total == count["input_rows"], table


# --------------------------------------------------------------------------- the defect tape


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_defect_tape_counts(tmp_path, cn_bank, pseudonymiser, fmt):
    expected = build_defect_tape(tmp_path, fmt)
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)

    loans = tape.counts["loans"]
    assert loans["input_rows"] == expected["input_rows"]
    assert loans["loaded"] == expected["loaded"]
    assert loans["quarantined"] == expected["quarantined"]
    assert loans["excluded"] == expected["excluded"]
    assert dict(Counter(tape.quarantine.get_column("reason").to_list())) == expected["reasons"]
    for flag, n in expected["flags"].items():
        assert tape.flags[flag] == n
    assert sorted(tape.loans.get_column("loan_id").to_list()) == expected["loaded_ids"]
    _conserved(tape.counts)
    assert tape.inputs[0]["title_rows_skipped"] == 2


def test_defect_tape_rows_and_messages(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    by_row = {r["row"]: r for r in tape.quarantine.to_dicts()}
    rows = expected["rows"]
    assert by_row[rows["invalid_date"]]["column"] == "发放日期"
    assert by_row[rows["invalid_amount"]]["reason"] == "invalid_amount"
    assert by_row[rows["out_of_range"]]["column"] == "合同金额"
    assert by_row[rows["invalid_code"]]["value_masked"] == "火箭贷"
    assert by_row[rows["duplicate_id"]]["reason"] == "duplicate_id"
    for defect in ("invalid_id_18", "invalid_id_15", "invalid_residence_permit", "invalid_foreign_permanent"):
        assert by_row[rows[defect]]["reason"] == "invalid_id_number", defect
        assert "*" in by_row[rows[defect]]["value_masked"]
    assert by_row[rows["id_type_mismatch"]]["reason"] == "id_type_mismatch"
    assert tape.quarantine.columns == QUARANTINE_COLUMNS
    assert tape.quarantine.get_column("file").unique().to_list() == ["loans.csv"]
    for text in tape.quarantine.get_column("message").to_list():
        assert " | " in text  # English | Chinese


def test_defect_tape_parses_bank_forms(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    loans = {r["loan_id"]: r for r in tape.loans.to_dicts()}
    for loan_id in ("L00001", "L00002", "L00003", "L00004"):
        assert loans[loan_id]["origination_date"] == date(2023, 5, 1), loan_id
    assert loans["L00005"]["principal_outstanding"] == 1234.5
    assert loans["L00006"]["principal_original"] == 12345.0
    assert loans["L00007"]["principal_outstanding"] == 2000.0
    assert loans["L00008"]["interest_rate"] == pytest.approx(0.056)
    assert loans["L00001"]["interest_rate"] == pytest.approx(0.056)
    assert loans["L00001"]["currency"] == "CNY"
    assert loans["L00001"]["exposure_at_default"] == pytest.approx(8400 + 120.5)
    borrowers = tape.table("borrowers")
    types = dict(zip(borrowers.get_column("borrower_id_masked"), borrowers.get_column("id_type"), strict=True))
    assert types["**0009"] == "resident_id_15"
    assert types["**0010"] == "residence_permit_hmt"
    assert types["**0011"] == "foreign_permanent"


def test_defect_tape_csv_and_xlsx_agree(tmp_path, cn_bank, pseudonymiser):
    csv_tape = load_tape(build_defect_tape(tmp_path / "c", "csv")["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    xlsx_tape = load_tape(build_defect_tape(tmp_path / "x", "xlsx")["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    for table in ("loans", "borrowers"):
        assert csv_tape.table(table).equals(xlsx_tape.table(table)), table
    assert csv_tape.quarantine.drop("file").equals(xlsx_tape.quarantine.drop("file"))


def test_defect_tape_other_encodings(tmp_path, cn_bank, pseudonymiser):
    reference = load_tape(build_defect_tape(tmp_path / "a", "csv")["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    for encoding in ("utf-8", "utf-8-sig"):
        path = build_defect_tape(tmp_path / encoding, "csv", encoding=encoding)["path"]
        tape = load_tape(path, cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
        assert tape.loans.equals(reference.loans), encoding


# --------------------------------------------------------------------------- privacy


def test_no_personal_value_in_clear(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    personal = ("姓名", "证件号码", "手机号码", "电子邮箱", "家庭住址", "银行卡号", "工作单位", "备注", "客户编号")
    lines = list(csv.reader(io.StringIO(expected["path"].read_bytes().decode("gb18030"))))[3:]
    # Values of six characters or more: shorter ones (the invalid phone "12345") also occur as amounts.
    secrets = {v for line in lines for v, h in zip(line, HEADERS, strict=False) if h in personal and len(v) >= 6}
    assert len(secrets) > 100
    dumped = "\n".join(frame.write_csv() for frame in [*tape.tables.values(), tape.quarantine])
    leaked = [s for s in secrets if s in dumped]
    assert leaked == []


def test_borrower_hash_joins_loans(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    loans_hashes = set(tape.loans.get_column("borrower_id_hash").to_list())
    borrower_hashes = set(tape.table("borrowers").get_column("borrower_id_hash").to_list())
    assert loans_hashes == borrower_hashes
    assert hmac_sha256_hex(KEY, "C00001") in loans_hashes


def test_write_quarantine_has_bom(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    out = tmp_path / "out" / "quarantine.csv"
    write_quarantine(tape.quarantine, out)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(data[3:], infer_schema=False)
    assert back.columns == QUARANTINE_COLUMNS
    assert back.height == tape.quarantine.height
    assert "发放日期" in data.decode("utf-8-sig")


# --------------------------------------------------------------------------- random tapes


def _random_tape(path: Path, seed: int, n: int, *, unique_ids: bool = False) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        born = date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
        row = {h: "" for h in HEADERS}
        row.update(
            {
                "贷款编号": f"L{i}" if unique_ids or rng.random() > 0.05 else f"L{rng.randrange(max(i, 1))}",
                "客户编号": f"C{rng.randrange(n // 2 + 1)}",
                "产品类型": rng.choice(["信用卡", "消费贷款", "火箭贷", ""]),
                "发放日期": rng.choice(["2023年5月1日", "2023/5/1", "20230501", "2023-13-01", "", "45047"]),
                "基准日": "2024-06-30",
                "剩余本金": rng.choice(["1,234.50元", "-5", "abc", "", "１２３", str(rng.randrange(10**6))]),
                "执行利率": rng.choice(["5.6", "5.6%", "x", ""]),
                "逾期天数": rng.choice(["10", "200", "", "abc"]),
                "五级分类": rng.choice(["正常", "次级", "可疑", "损失", "坏"]),
                "证件类型": rng.choice(["居民身份证", "外国人永久居留身份证", ""]),
                "证件号码": rng.choice([resident_id("110105", born, rng.randrange(1000)), "110105900307123", "123", ""]),
                "手机号码": rng.choice(["13812345678", "123", ""]),
                "银行卡号": rng.choice([luhn_card("62", 19, rng), "6222020200112233440", ""]),
            }
        )
        rows.append([str(row[h]) for h in HEADERS])
        if rng.random() < 0.03:
            rows.append([""] * len(HEADERS))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_conservation_on_random_tapes(tmp_path, cn_bank, pseudonymiser, seed):
    path = tmp_path / "loans.csv"
    rows = _random_tape(path, seed, 400)
    tape = load_tape(path, cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    assert tape.counts["loans"]["input_rows"] == len(rows)
    _conserved(tape.counts)
    quarantined_rows = tape.quarantine.get_column("row").n_unique()
    assert quarantined_rows == tape.counts["loans"]["quarantined"]
    loaded_rows = set(tape.loans.get_column("source_row").to_list())
    assert loaded_rows.isdisjoint(tape.quarantine.get_column("row").to_list())


def test_row_order_invariance(tmp_path, cn_bank, pseudonymiser):
    path = tmp_path / "loans.csv"
    rows = _random_tape(path, 11, 300, unique_ids=True)
    rows = [r for r in rows if any(r)]
    shuffled = list(rows)
    random.Random(4).shuffle(shuffled)
    tapes = []
    for name, body in (("a.csv", rows), ("b.csv", shuffled)):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([HEADERS, *body])
        (tmp_path / name).write_bytes(buffer.getvalue().encode("gb18030"))
        tapes.append(load_tape(tmp_path / name, cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF))
    first, second = (t.loans.drop("source_row").sort("loan_id") for t in tapes)
    assert first.equals(second)
    assert tapes[0].counts == tapes[1].counts
    assert Counter(tapes[0].quarantine.get_column("reason")) == Counter(tapes[1].quarantine.get_column("reason"))


# --------------------------------------------------------------------------- chunks


def test_chunks_match_whole_load(tmp_path, cn_bank, pseudonymiser):
    path = tmp_path / "loans.csv"
    _random_tape(path, 5, 600)
    whole = load_tape(path, cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    chunks = list(iter_loan_chunks(path, cn_bank, pseudonymiser=pseudonymiser, chunk_rows=97, as_of=AS_OF))
    assert len(chunks) > 5
    loans = pl.concat([c.loans for c in chunks])
    assert loans.equals(whole.loans)
    borrowers = pl.concat([c.table("borrowers") for c in chunks])
    assert borrowers.equals(whole.table("borrowers"))
    assert pl.concat([c.quarantine for c in chunks]).equals(whole.quarantine)
    summed = Counter()
    for chunk in chunks:
        summed.update(chunk.counts["loans"]["excluded"])
        summed["loaded"] += chunk.counts["loans"]["loaded"]
        summed["quarantined"] += chunk.counts["loans"]["quarantined"]
        summed["input_rows"] += chunk.counts["loans"]["input_rows"]
    assert summed["input_rows"] == whole.counts["loans"]["input_rows"]
    assert summed["loaded"] == whole.counts["loans"]["loaded"]
    assert summed["quarantined"] == whole.counts["loans"]["quarantined"]


def test_chunks_reject_folder_and_xlsx(tmp_path, cn_bank, pseudonymiser):
    with pytest.raises(InputFileError, match="folder"):
        next(iter_loan_chunks(tmp_path, cn_bank, pseudonymiser=pseudonymiser))
    path = build_defect_tape(tmp_path / "x", "xlsx")["path"]
    with pytest.raises(InputFileError, match="Excel"):
        next(iter_loan_chunks(path, cn_bank, pseudonymiser=pseudonymiser))


# --------------------------------------------------------------------------- where, derived, as_of


def test_where_excludes_and_types_columns(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF, where="\"逾期天数\" >= 220")
    assert tape.counts["loans"]["excluded"]["where"] > 0
    _conserved(tape.counts)
    assert all(d >= 220 for d in tape.loans.get_column("dpd").to_list())


def test_invalid_where_says_columns(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    with pytest.raises(ConfigError, match="--where .*columns: 贷款编号"):
        load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF, where="no_such_column > 1")


def test_derived_invalid_quarantines(tmp_path, pseudonymiser):
    profile_path = tmp_path / "p.toml"
    profile_path.write_text(
        """
name = "derived"
currency = "USD"
[tables.loans]
file = "loans"
[tables.loans.columns]
loan_id = "id"
principal_original = "funded"
[tables.loans.extra]
repaid = "amount"
[tables.loans.derived]
principal_outstanding = "principal_original - repaid"
exposure_at_default = "principal_original - repaid"
""",
        encoding="utf-8",
    )
    data = tmp_path / "loans.csv"
    data.write_text("id,funded,repaid\nA,100,40\nB,100,150\nC,100,\n", encoding="utf-8")
    tape = load_tape(data, load_profile(profile_path), pseudonymiser=pseudonymiser, as_of=AS_OF)
    assert tape.loans.get_column("loan_id").to_list() == ["A"]
    assert tape.loans.item(0, "exposure_at_default") == 60
    reasons = tape.quarantine.filter(pl.col("reason") == "derived_invalid")
    assert sorted(set(reasons.get_column("row").to_list())) == [2, 3]
    assert "funded" not in tape.feature_columns and "repaid" in tape.feature_columns


def test_missing_as_of_quarantines_with_fix(tmp_path, cn_bank, pseudonymiser):
    expected = build_defect_tape(tmp_path, "csv")
    text = expected["path"].read_bytes().decode("gb18030").replace("2024-06-30", "")
    expected["path"].write_bytes(text.encode("gb18030"))
    tape = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser)
    missing = tape.quarantine.filter(pl.col("column") == "基准日")
    assert missing.height > 0
    assert "--as-of" in missing.item(0, "message")
    with_date = load_tape(expected["path"], cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    assert with_date.quarantine.filter(pl.col("column") == "基准日").height == 0


def test_bad_derived_sql_is_profile_error(tmp_path, pseudonymiser):
    profile_path = tmp_path / "p.toml"
    profile_path.write_text(
        'name = "x"\ncurrency = "USD"\n[tables.loans.columns]\nloan_id = "id"\n'
        '[tables.loans.derived]\nprincipal_outstanding = "no_such + 1"\n',
        encoding="utf-8",
    )
    data = tmp_path / "loans.csv"
    data.write_text("id\nA\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="principal_outstanding"):
        load_tape(data, load_profile(profile_path), pseudonymiser=pseudonymiser, as_of=AS_OF)


# --------------------------------------------------------------------------- folders


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode("gb18030"))


LOAN_HEADER = ["贷款编号", "客户编号", "基准日", "剩余本金", "五级分类", "逾期天数"]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tape"
    folder.mkdir()
    _write_csv(
        folder / "loans.csv",
        LOAN_HEADER,
        [
            ["L1", "C1", "2024-06-30", "1000", "次级", "200"],
            ["L2", "C2", "2024-06-30", "2000", "可疑", "300"],
            ["L3", "C3", "2024-06-30", "3000", "正常", "0"],  # performing: excluded
            ["L4", "C4", "2024-06-30", "abc", "损失", "400"],  # quarantined
            ["L5", "C9", "2024-06-30", "500", "损失", "400"],  # borrower absent from borrowers file
        ],
    )
    good = resident_id("110105", date(1990, 3, 7), 123)
    _write_csv(
        folder / "borrowers.csv",
        ["客户编号", "姓名", "证件类型", "证件号码"],
        [
            ["C1", "张三", "居民身份证", good],
            ["C2", "李四", "居民身份证", good[:17] + ("0" if good[17] != "0" else "1")],  # bad ID: quarantined
            ["C3", "王五", "居民身份证", good],  # only a performing loan: excluded
            ["C7", "赵六", "居民身份证", good],  # no loan at all: excluded
        ],
    )
    _write_csv(
        folder / "repayments.csv",
        ["贷款编号", "还款日期", "还款金额", "还款类型"],
        [
            ["L1", "2023-01-05", "100", "正常还款"],
            ["L3", "2023-01-05", "100", "正常还款"],  # loan excluded
            ["L4", "2023-01-05", "100", "正常还款"],  # loan quarantined
            ["L8", "2023-01-05", "100", "正常还款"],  # unknown loan
            ["L1", "someday", "100", "正常还款"],  # bad date
        ],
    )
    _write_csv(
        folder / "contacts.csv",
        ["客户编号", "联系人姓名", "联系人电话", "关系", "是否可联"],
        [
            ["C1", "张父", "13900000000", "父母", "是"],
            ["C3", "王母", "13900000001", "父母", "否"],  # borrower excluded
            ["C8", "某人", "13900000002", "朋友", "是"],  # unknown borrower
        ],
    )
    return folder


def test_folder_cross_table_rules(tmp_path, cn_bank, pseudonymiser):
    tape = load_tape(_folder(tmp_path), cn_bank, pseudonymiser=pseudonymiser)
    _conserved(tape.counts)
    assert tape.loans.get_column("loan_id").to_list() == ["L1", "L2", "L5"]
    assert tape.counts["loans"]["excluded"] == {"performing": 1}
    assert tape.counts["borrowers"] == {
        "input_rows": 4,
        "loaded": 1,
        "quarantined": 1,
        "excluded": {"no_loaded_loan": 2},
    }
    assert tape.counts["repayments"] == {
        "input_rows": 5,
        "loaded": 1,
        "quarantined": 2,
        "excluded": {"loan_not_loaded": 2},
    }
    assert tape.counts["contacts"] == {
        "input_rows": 3,
        "loaded": 1,
        "quarantined": 1,
        "excluded": {"borrower_not_loaded": 1},
    }
    reasons = Counter(zip(tape.quarantine.get_column("table"), tape.quarantine.get_column("reason"), strict=True))
    assert reasons[("repayments", "unknown_loan")] == 1
    assert reasons[("repayments", "invalid_date")] == 1
    assert reasons[("contacts", "unknown_borrower")] == 1
    assert reasons[("borrowers", "invalid_id_number")] == 1
    assert tape.flags["borrower_quarantined"] == 1  # L2's borrower C2
    assert tape.flags["borrower_missing"] == 1  # L5's borrower C9
    assert {i["table"] for i in tape.inputs} == {"loans", "borrowers", "repayments", "contacts"}
    assert tape.table("collection_events") is None


def test_folder_without_loans(tmp_path, cn_bank, pseudonymiser):
    (tmp_path / "borrowers.csv").write_text("客户编号\nC1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no loans file"):
        load_tape(tmp_path, cn_bank, pseudonymiser=pseudonymiser)


def test_missing_tape(tmp_path, cn_bank, pseudonymiser):
    with pytest.raises(InputFileError, match="not found"):
        load_tape(tmp_path / "nothing.csv", cn_bank, pseudonymiser=pseudonymiser)


# --------------------------------------------------------------------------- LendingClub


def _shared_data() -> Path:
    override = os.environ.get("SANHUA_SHARED_DATA")
    return Path(override) if override else (REPO.parent / "shared" / "data").resolve()


LENDINGCLUB = _shared_data() / "lendingclub" / "loans_issued_2007_2010.csv.gz"


@pytest.mark.realdata
@pytest.mark.skipif(not LENDINGCLUB.is_file(), reason=f"LendingClub data not found at {LENDINGCLUB} (set SANHUA_SHARED_DATA)")
def test_lendingclub_real_file(pseudonymiser):
    profile = load_profile("lendingclub")
    tape = load_tape(LENDINGCLUB, profile, pseudonymiser=pseudonymiser)

    # 20,814 loans; charged off 2,373 + 761 outside the credit policy (data README).
    assert tape.counts["loans"] == {"input_rows": 20814, "loaded": 3134, "quarantined": 0, "excluded": {"performing": 17680}}
    loans = tape.loans
    assert loans.get_column("loan_id").str.starts_with("row-").all()
    assert loans.get_column("loan_id").n_unique() == 3134
    assert (loans.get_column("exposure_at_default") >= 0).all()
    assert loans.get_column("as_of_date").null_count() == 0
    assert loans.get_column("currency").unique().to_list() == ["USD"]
    assert loans.get_column("product").unique().to_list() == ["consumer_loan"]
    assert loans.get_column("interest_rate").max() < 0.3
    for column in ("recoveries", "total_pymnt", "collection_recovery_fee", "settlement_amount", "debt_settlement_flag"):
        for table, frame in tape.tables.items():
            if table != "outcomes":
                assert not any(c.startswith(column) for c in frame.columns), (table, column)
    assert "note_hash" in loans.columns and "desc" not in loans.columns
    borrowers = tape.table("borrowers")
    assert borrowers.height == 3134
    assert set(borrowers.get_column("borrower_id_hash")) == set(loans.get_column("borrower_id_hash"))
    assert borrowers.get_column("employment_years").max() == 10
    assert "address_hash" in borrowers.columns and "employer_hash" in borrowers.columns
    outcomes = tape.table("outcomes")
    assert outcomes.height == 3134
    assert outcomes.get_column("month").null_count() == 3134
    assert set(outcomes.get_column("kind").unique()) == {"recovery", "settlement"}
    assert "total_rec_prncp" in tape.feature_columns


@pytest.mark.realdata
@pytest.mark.skipif(not LENDINGCLUB.is_file(), reason=f"LendingClub data not found at {LENDINGCLUB} (set SANHUA_SHARED_DATA)")
def test_lendingclub_where_on_typed_columns(pseudonymiser):
    tape = load_tape(
        LENDINGCLUB, load_profile("lendingclub"), pseudonymiser=pseudonymiser, where="issue_d < '2010-01-01' AND loan_amnt > 5000"
    )
    _conserved(tape.counts)
    assert tape.counts["loans"]["excluded"]["where"] > 0
    assert tape.loans.get_column("origination_date").max() < date(2010, 1, 1)
    assert tape.loans.get_column("loan_amnt").min() > 5000


def test_large_tape_builder_loads_clean(tmp_path, cn_bank, pseudonymiser):
    from fixtures.large_tape import build_large_tape

    path = build_large_tape(tmp_path / "loans.csv", 500)
    tape = load_tape(path, cn_bank, pseudonymiser=pseudonymiser, as_of=AS_OF)
    assert tape.counts["loans"] == {"input_rows": 500, "loaded": 500, "quarantined": 0, "excluded": {}}
    assert tape.table("borrowers").height == 500
    assert tape.inputs[0]["encoding"] == "gb18030"


def test_short_row_quarantined_not_excluded(tmp_path, cn_bank, pseudonymiser):
    # A line cut after its third field has no class and no days past due: the non-performing
    # condition cannot judge it, so it must reach validation and be quarantined, not pass as performing.
    folder = tmp_path / "tape"
    folder.mkdir()
    text = "\n".join(
        [
            ",".join(LOAN_HEADER),
            "L1,C1,2024-06-30,1000,次级,200",
            "L2,C2,2024-06-30",
            "L3,C3,2024-06-30,3000,正常,0",
        ]
    )
    (folder / "loans.csv").write_bytes((text + "\n").encode("gb18030"))
    tape = load_tape(folder, cn_bank, pseudonymiser=pseudonymiser)

    _conserved(tape.counts)
    assert tape.counts["loans"]["excluded"] == {"performing": 1}
    assert tape.counts["loans"]["quarantined"] == 1
    quarantined = tape.quarantine.filter(pl.col("table") == "loans")
    assert quarantined["row"].unique().to_list() == [2]
    assert "missing_required" in quarantined["reason"].to_list()
