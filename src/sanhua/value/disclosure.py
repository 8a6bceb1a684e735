"""Package disclosure, "one map, one table": the announcement summary and the de-identified loan table.

Summary (what every bidder sees in the announcement), per package: cut-off
date; principal, interest, fees and total; loans and borrowers; the
balance-weighted average days past due and borrower age; the largest and the
average balance per borrower; counts by five-tier class, write-off status,
collateral and litigation status.

Loan table (qualified bidders only, in due diligence): no direct identifier
(loan ids, debtor ids, names, ID numbers, phones, addresses and notes are never
copied; rows are numbered within the package), and the quasi-identifiers
generalised until every combination of their values covers at least ``k``
distinct debtors. The generalisation is Datafly's greedy rule (Sweeney, 2002,
"Achieving k-anonymity privacy protection using generalization and
suppression", IJUFKS 10(5)): raise one level of the quasi-identifier with the
most distinct values until k holds; when every quasi-identifier is at its top
level, the rows still in combinations below k are suppressed (left out and
counted) up to ``max_suppressed_share``.

Derived values, reported in ``notes``: a missing five-tier class is derived
from days past due by the minimum classes of the 2023 risk-classification
rules (more than 90 days substandard, 270 doubtful, 360 loss) and the 2011
credit-card rule (91-120 substandard, 121-180 doubtful, over 180 loss); written-off
loans are loss.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import polars as pl
from openpyxl import Workbook

from sanhua.errors import ConfigError, PrivacyError
from sanhua.tape.schema import CODES
from sanhua.value.checks import bin_left_closed, require_columns
from sanhua.value.settings import DisclosureSettings

__all__ = [
    "MACRO_REGION",
    "SUMMARY_HEADERS_ZH",
    "LOAN_HEADERS_ZH",
    "CODE_LABELS_ZH",
    "derive_five_tier",
    "package_summary",
    "k_anonymise",
    "loan_table",
    "write_table",
]

logger = logging.getLogger(__name__)

_STAGE = "disclosure"

MACRO_REGION: dict[str, str] = {
    **dict.fromkeys(["北京市", "天津市", "河北省", "山西省", "内蒙古自治区"], "华北"),
    **dict.fromkeys(["辽宁省", "吉林省", "黑龙江省"], "东北"),
    **dict.fromkeys(["上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "台湾省"], "华东"),
    **dict.fromkeys(["河南省", "湖北省", "湖南省"], "华中"),
    **dict.fromkeys(["广东省", "广西壮族自治区", "海南省", "香港特别行政区", "澳门特别行政区"], "华南"),
    **dict.fromkeys(["重庆市", "四川省", "贵州省", "云南省", "西藏自治区"], "西南"),
    **dict.fromkeys(["陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区"], "西北"),
}
"""Province to the seven traditional geographic regions of China (华北 ... 西北); unknown provinces map to 其他."""

_ALL = "全部"

SUMMARY_HEADERS_ZH: dict[str, str] = {
    "package_id": "资产包编号",
    "cutoff_date": "基准日",
    "currency": "币种",
    "principal": "本金余额",
    "interest": "利息余额",
    "fees": "费用余额",
    "total": "债权总额",
    "loans": "贷款笔数",
    "borrowers": "借款人户数",
    "wa_dpd": "加权平均逾期天数",
    "wa_age": "加权平均借款人年龄",
    "max_balance_per_borrower": "单户最大债权余额",
    "avg_balance_per_borrower": "户均债权余额",
    "written_off": "已核销笔数",
    **{f"five_tier_{code}": f"五级分类-{zh}笔数" for code, zh in zip(CODES["five_tier"], ("正常", "关注", "次级", "可疑", "损失"), strict=True)},
    **{f"collateral_{code}": f"担保方式-{zh}笔数" for code, zh in zip(CODES["collateral"], ("信用", "抵押", "质押", "保证"), strict=True)},
    **{
        f"litigation_{code}": f"诉讼状态-{zh}笔数"
        for code, zh in zip(CODES["litigation_status"], ("未诉", "诉讼中", "已判决", "执行中", "终本", "已调解"), strict=True)
    },
}
"""Chinese headers of the summary columns."""

LOAN_HEADERS_ZH: dict[str, str] = {
    "row": "序号",
    "product": "产品",
    "region": "地区",
    "age": "借款人年龄",
    "principal_outstanding": "本金余额区间",
    "dpd": "逾期天数区间",
    "origination_date": "放款时间",
    "five_tier": "五级分类",
    "written_off": "是否核销",
    "collateral": "担保方式",
    "litigation_status": "诉讼状态",
}
"""Chinese headers of the loan-table columns."""

CODE_LABELS_ZH: dict[str, dict[str, str]] = {
    "product": {
        "credit_card": "信用卡", "consumer_loan": "消费贷款", "business_loan": "个人经营贷款",
        "mortgage": "住房按揭贷款", "auto_loan": "汽车贷款", "other": "其他",
    },
    "five_tier": {"normal": "正常", "special_mention": "关注", "substandard": "次级", "doubtful": "可疑", "loss": "损失"},
    "written_off": {"true": "是", "false": "否"},
    "collateral": {"none": "信用", "mortgage": "抵押", "pledge": "质押", "guarantee": "保证"},
    "litigation_status": {
        "not_sued": "未诉讼", "in_suit": "诉讼中", "judged": "已判决", "in_execution": "执行中",
        "execution_ended_no_assets": "终结本次执行", "mediated": "已调解",
    },
}
"""Chinese labels of the canonical codes shown in the loan table (the bidders read Chinese); an unknown code is shown as it is."""

_AMOUNT_EDGES: tuple[tuple[float, ...], ...] = (
    (5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000),
    (10_000, 50_000, 200_000),
    (50_000,),
)
_DPD_EDGES: tuple[tuple[float, ...], ...] = (
    (180, 270, 365, 545, 730, 1095, 1460, 1825),
    (365, 730, 1095),
    (1095,),
)
_AGE_WIDTHS: tuple[int, ...] = (5, 10, 20)


def derive_five_tier(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Fill a missing or null ``five_tier`` from ``dpd``, ``product`` and ``written_off``; return the frame and the count derived."""
    if "five_tier" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("five_tier"))
    if "dpd" not in frame.columns:
        return frame, 0

    card = pl.col("product") == "credit_card" if "product" in frame.columns else pl.lit(False)
    written_off = pl.col("written_off").fill_null(False) if "written_off" in frame.columns else pl.lit(False)
    dpd = pl.col("dpd")
    loan_tier = pl.when(dpd > 360).then(pl.lit("loss")).when(dpd > 270).then(pl.lit("doubtful")).when(dpd > 90).then(pl.lit("substandard")).otherwise(pl.lit("special_mention"))
    card_tier = pl.when(dpd > 180).then(pl.lit("loss")).when(dpd > 120).then(pl.lit("doubtful")).when(dpd > 90).then(pl.lit("substandard")).otherwise(pl.lit("special_mention"))
    derived = pl.when(written_off).then(pl.lit("loss")).when(card.fill_null(False)).then(card_tier).otherwise(loan_tier)
    missing = frame.select((pl.col("five_tier").is_null() & pl.col("dpd").is_not_null()).sum()).item()
    frame = frame.with_columns(pl.when(pl.col("five_tier").is_null() & dpd.is_not_null()).then(derived).otherwise(pl.col("five_tier")).alias("five_tier"))
    return frame, int(missing)


def package_summary(frame: pl.DataFrame, cutoff_date: date) -> pl.DataFrame:
    """Build the announcement summary of each package.

    Parameters
    ----------
    frame : polars.DataFrame
        Loans in packages: ``package_id``, ``debtor`` (debtor key),
        ``currency``, ``principal_outstanding``; optionally
        ``interest_outstanding``, ``fees_outstanding`` (null counts as 0),
        ``dpd``, ``age`` (borrower age, years), ``five_tier``,
        ``written_off``, ``collateral``, ``litigation_status``.
    cutoff_date : datetime.date
        Cut-off date of the tape.

    Returns
    -------
    polars.DataFrame
        One row per package with the columns of :data:`SUMMARY_HEADERS_ZH`
        (English names). Averages are weighted by each loan's total balance;
        ``wa_dpd`` and ``wa_age`` are null when their column is absent.
        Counts of a code column that is absent are null, not 0.
    """
    require_columns(frame, ["package_id", "debtor", "currency", "principal_outstanding"], _STAGE)
    work = frame.with_columns(
        [pl.col(name).cast(pl.Float64).fill_null(0.0) if name in frame.columns else pl.lit(0.0).alias(name) for name in ("interest_outstanding", "fees_outstanding")]
    ).with_columns((pl.col("principal_outstanding") + pl.col("interest_outstanding") + pl.col("fees_outstanding")).alias("_total"))

    def weighted(name: str) -> pl.Expr:
        if name not in work.columns:
            return pl.lit(None, dtype=pl.Float64)
        value = pl.col(name).cast(pl.Float64)
        weight = pl.when(value.is_not_null()).then(pl.col("_total")).otherwise(0.0)
        return (value.fill_null(0.0) * weight).sum() / weight.sum()

    def counts(column: str, prefix: str, codes: tuple[str, ...]) -> list[pl.Expr]:
        if column not in work.columns:
            return [pl.lit(None, dtype=pl.UInt32).alias(f"{prefix}_{code}") for code in codes]
        return [(pl.col(column) == code).sum().cast(pl.UInt32).alias(f"{prefix}_{code}") for code in codes]

    per_borrower = work.group_by("package_id", "debtor").agg(pl.col("_total").sum().alias("_balance"))
    borrowers = per_borrower.group_by("package_id").agg(
        pl.len().alias("borrowers"),
        pl.col("_balance").max().alias("max_balance_per_borrower"),
        pl.col("_balance").mean().alias("avg_balance_per_borrower"),
    )
    written = (
        pl.col("written_off").fill_null(False).sum().cast(pl.UInt32) if "written_off" in work.columns else pl.lit(None, dtype=pl.UInt32)
    )
    summary = work.group_by("package_id").agg(
        pl.col("currency").first(),
        pl.col("principal_outstanding").sum().alias("principal"),
        pl.col("interest_outstanding").sum().alias("interest"),
        pl.col("fees_outstanding").sum().alias("fees"),
        pl.col("_total").sum().alias("total"),
        pl.len().cast(pl.UInt32).alias("loans"),
        weighted("dpd").alias("wa_dpd"),
        weighted("age").alias("wa_age"),
        written.alias("written_off"),
        *counts("five_tier", "five_tier", CODES["five_tier"]),
        *counts("collateral", "collateral", CODES["collateral"]),
        *counts("litigation_status", "litigation", CODES["litigation_status"]),
    )
    columns = list(SUMMARY_HEADERS_ZH)
    return (
        summary.join(borrowers, on="package_id")
        .with_columns(pl.lit(cutoff_date).alias("cutoff_date"), pl.col("borrowers").cast(pl.UInt32))
        .select(columns)
        .sort("package_id")
    )


def _band(value: pl.Expr, edges: tuple[float, ...], unit: str) -> pl.Expr:
    labels = [f"<{edges[0]:.0f}{unit}"] + [f"{lo:.0f}-{hi:.0f}{unit}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)] + [f">={edges[-1]:.0f}{unit}"]
    return bin_left_closed(value.cast(pl.Float64), list(edges), labels)


def _generalise(column: str, level: int) -> pl.Expr:
    """Return the expression of ``column`` at generalisation ``level`` (0 = finest shown); the top level is 全部."""
    source = pl.col(column)
    if column == "region":
        levels = [source.cast(pl.Utf8), source.cast(pl.Utf8).replace_strict(MACRO_REGION, default="其他", return_dtype=pl.Utf8)]
    elif column == "age":
        levels = [
            ((source.cast(pl.Int64) // width) * width).cast(pl.Utf8) + pl.lit("-") + ((source.cast(pl.Int64) // width) * width + width - 1).cast(pl.Utf8) + pl.lit("岁")
            for width in _AGE_WIDTHS
        ]
    elif column == "principal_outstanding":
        levels = [_band(source, edges, "元") for edges in _AMOUNT_EDGES]
    elif column == "dpd":
        levels = [_band(source, edges, "天") for edges in _DPD_EDGES]
    elif column == "origination_date":
        levels = [source.dt.year().cast(pl.Utf8) + pl.lit("Q") + source.dt.quarter().cast(pl.Utf8), source.dt.year().cast(pl.Utf8)]
    else:
        levels = [source.cast(pl.Utf8)]

    if level >= len(levels):
        return pl.lit(_ALL).alias(column)
    return levels[level].fill_null("未知").alias(column)


def _top_level(column: str) -> int:
    return {"region": 2, "age": 3, "principal_outstanding": 3, "dpd": 3, "origination_date": 2}.get(column, 1)


def k_anonymise(
    frame: pl.DataFrame, quasi_identifiers: list[str], k: int, max_suppressed_share: float
) -> tuple[pl.DataFrame, dict[str, int], int]:
    """Generalise the quasi-identifiers of one package's loans until every combination covers >= k debtors.

    Parameters
    ----------
    frame : polars.DataFrame
        One package's loans with ``debtor`` and the ``quasi_identifiers``.
    quasi_identifiers : list of str
        Columns to generalise (see :func:`_generalise` for their levels).
    k : int
        Minimum distinct debtors per combination.
    max_suppressed_share : float
        Largest share of rows that may be suppressed at the top levels.

    Returns
    -------
    tuple
        The frame with generalised quasi-identifiers (suppressed rows
        removed), the level reached per quasi-identifier, and the number of
        rows suppressed.

    Raises
    ------
    PrivacyError
        More than ``max_suppressed_share`` of the rows would have to be
        suppressed (the package has too few debtors for k).
    """
    levels = dict.fromkeys(quasi_identifiers, 0)

    def apply() -> pl.DataFrame:
        return frame.with_columns([_generalise(name, level) for name, level in levels.items()])

    while True:
        current = apply()
        if not quasi_identifiers:
            return current, levels, 0
        sizes = current.group_by(quasi_identifiers).agg(pl.col("debtor").n_unique().alias("_debtors"))
        if sizes["_debtors"].min() >= k:
            return current, levels, 0

        open_columns = [name for name in quasi_identifiers if levels[name] < _top_level(name)]
        if not open_columns:
            break
        distinct = {name: current[name].n_unique() for name in open_columns}
        levels[max(open_columns, key=lambda name: (distinct[name], -quasi_identifiers.index(name)))] += 1

    kept = current.join(sizes.filter(pl.col("_debtors") >= k).drop("_debtors"), on=quasi_identifiers, how="semi")
    suppressed = current.height - kept.height
    if suppressed > max_suppressed_share * current.height:
        raise PrivacyError(
            f"{_STAGE}: a package of {current.height} loans cannot reach {k}-anonymity without suppressing {suppressed} rows "
            f"(more than {max_suppressed_share:.0%}); raise packaging.min_debtors to at least {k} or lower disclosure.k_anonymity."
        )
    return kept, levels, suppressed


def loan_table(frame: pl.DataFrame, settings: DisclosureSettings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the de-identified loan table of every package.

    Parameters
    ----------
    frame : polars.DataFrame
        Loans in packages: ``package_id``, ``debtor`` and any of the columns
        of :data:`LOAN_HEADERS_ZH`; absent quasi-identifiers are skipped.
    settings : DisclosureSettings

    Returns
    -------
    tuple of polars.DataFrame
        The loan table (``package_id``, ``row`` and the shown columns; no
        ``debtor`` and no loan id) and a report with one row per package:
        ``package_id``, ``rows``, ``suppressed``, ``min_debtors_per_class``
        and ``levels`` (generalisation level per quasi-identifier, as text).
    """
    require_columns(frame, ["package_id", "debtor"], _STAGE)
    if settings.k_anonymity < 2:
        raise ConfigError(f"{_STAGE}: k_anonymity must be >= 2, got {settings.k_anonymity}.")

    quasi = [name for name in settings.quasi_identifiers if name in frame.columns]
    shown = [name for name in LOAN_HEADERS_ZH if name != "row" and name in frame.columns]
    tables, reports = [], []
    for (package_id,), part in frame.sort("package_id").group_by("package_id", maintain_order=True):
        generalised, levels, suppressed = k_anonymise(
            part.select("debtor", *shown), quasi, settings.k_anonymity, settings.max_suppressed_share
        )
        smallest = generalised.group_by(quasi).agg(pl.col("debtor").n_unique().alias("n"))["n"].min() if quasi else None
        table = generalised.with_columns(
            [pl.col(name).cast(pl.Utf8) for name in shown if name not in quasi]
        ).sort(quasi or shown).with_row_index("row", offset=1).select(pl.lit(package_id).alias("package_id"), "row", *shown)
        table = table.with_columns(
            [pl.col(name).replace(CODE_LABELS_ZH[name]) for name in shown if name in CODE_LABELS_ZH and name not in quasi]
        )
        tables.append(table)
        reports.append(
            {
                "package_id": package_id,
                "rows": table.height,
                "suppressed": suppressed,
                "min_debtors_per_class": smallest,
                "levels": ", ".join(f"{name}={level}" for name, level in levels.items()),
            }
        )

    logger.info("%s: %d package table(s) at k=%d", _STAGE, len(tables), settings.k_anonymity)
    return pl.concat(tables, how="vertical_relaxed"), pl.DataFrame(reports)


def write_table(table: pl.DataFrame, headers: dict[str, str], stem: Path) -> list[Path]:
    """Write ``table`` with Chinese headers to ``stem.csv`` (UTF-8 with BOM, so Excel reads it) and ``stem.xlsx``."""
    # Amounts to the fen and averages to two decimals, so no float noise (720137.0899999999) reaches a bidder.
    table = table.with_columns(pl.col(pl.Float32, pl.Float64).round(2))
    renamed = table.rename({name: headers.get(name, name) for name in table.columns})
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path = stem.with_suffix(".csv")
    csv_path.write_bytes(b"\xef\xbb\xbf" + renamed.write_csv().encode("utf-8"))

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(stem.name[:31])
    sheet.append(renamed.columns)
    for row in renamed.iter_rows():
        sheet.append([value.isoformat() if isinstance(value, date) else value for value in row])
    xlsx_path = stem.with_suffix(".xlsx")
    workbook.save(xlsx_path)
    return [csv_path, xlsx_path]
