"""Reason codes of the tape stage: quarantine, exclusion and flag.

Every row of an input file ends in exactly one of three places: loaded,
quarantined (a value the bank must fix) or excluded (a row that is not part of
the job, such as a performing loan or a blank line). A soft failure (a phone
number that fails its format check) neither drops nor quarantines the row: it
sets ``<column>_valid`` to false and is counted as a flag.

The codes are listed for users, with their fixes, in ``docs/quarantine.md``;
the test suite checks that both lists agree.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Reason", "Exclusion", "Flag", "message"]


class Reason(str, Enum):
    """Quarantine reason: the row is kept out of the run until the bank fixes it."""

    MISSING_REQUIRED = "missing_required"
    INVALID_DATE = "invalid_date"
    INVALID_DATETIME = "invalid_datetime"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_NUMBER = "invalid_number"
    INVALID_BOOL = "invalid_bool"
    INVALID_CODE = "invalid_code"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE_ID = "duplicate_id"
    INVALID_ID_NUMBER = "invalid_id_number"
    ID_TYPE_MISMATCH = "id_type_mismatch"
    DERIVED_INVALID = "derived_invalid"
    UNKNOWN_LOAN = "unknown_loan"
    UNKNOWN_BORROWER = "unknown_borrower"


class Exclusion(str, Enum):
    """Exclusion reason: the row is deliberately not part of the run."""

    BLANK_ROW = "blank_row"
    TOTAL_ROW = "total_row"
    WHERE = "where"
    PERFORMING = "performing"
    DUPLICATE_BORROWER = "duplicate_borrower"
    LOAN_NOT_LOADED = "loan_not_loaded"
    BORROWER_NOT_LOADED = "borrower_not_loaded"
    NO_LOADED_LOAN = "no_loaded_loan"


class Flag(str, Enum):
    """Soft failure counted in ``Tape.flags``; the row is loaded."""

    INVALID_PHONE = "invalid_phone"
    INVALID_CARD = "invalid_card"
    INVALID_EMAIL = "invalid_email"
    ID_TYPE_INFERRED = "id_type_inferred"
    BORROWER_QUARANTINED = "borrower_quarantined"
    BORROWER_MISSING = "borrower_missing"


# (English, Chinese) message templates. ``{column}`` is the source header and
# ``{detail}`` a reason-specific hint filled in by the validator.
_MESSAGES: dict[Reason, tuple[str, str]] = {
    Reason.MISSING_REQUIRED: (
        "{column} is empty but required{detail}; fill it in the source file",
        "{column} 为必填项但为空{detail}；请在源文件中补全",
    ),
    Reason.INVALID_DATE: (
        "{column} is not a date; use 2023-05-01, 2023/5/1, 2023年5月1日, 20230501 or an Excel date",
        "{column} 不是有效日期；请使用 2023-05-01、2023/5/1、2023年5月1日、20230501 或 Excel 日期",
    ),
    Reason.INVALID_DATETIME: (
        "{column} is not a date and time; use 2023-05-01 14:30:00 or an Excel date-time",
        "{column} 不是有效的日期时间；请使用 2023-05-01 14:30:00 或 Excel 日期时间",
    ),
    Reason.INVALID_AMOUNT: (
        "{column} is not an amount; use digits with an optional thousands separator, 元, ¥ or ￥",
        "{column} 不是有效金额；请使用数字，可带千分位、元、¥ 或 ￥",
    ),
    Reason.INVALID_NUMBER: (
        "{column} is not a number{detail}; fix the value",
        "{column} 不是有效数字{detail}；请更正",
    ),
    Reason.INVALID_BOOL: (
        "{column} is not yes/no; use 是/否, Y/N, true/false or 1/0",
        "{column} 不是是/否值；请使用 是/否、Y/N、true/false 或 1/0",
    ),
    Reason.INVALID_CODE: (
        "{column} has a value the profile does not map{detail}; fix the value or add it to the profile's codes",
        "{column} 的取值不在映射配置中{detail}；请更正取值或在配置的 codes 中补充",
    ),
    Reason.OUT_OF_RANGE: (
        "{column} is out of range{detail}; fix the value",
        "{column} 超出允许范围{detail}；请更正",
    ),
    Reason.DUPLICATE_ID: (
        "{column} repeats an id of an earlier row; the first row is kept, fix or remove this one",
        "{column} 与前面某行重复；已保留首行，请更正或删除本行",
    ),
    Reason.INVALID_ID_NUMBER: (
        "{column} is not a valid identity document number{detail}; check the number and its document type",
        "{column} 不是有效证件号码{detail}；请核对号码及证件类型",
    ),
    Reason.ID_TYPE_MISMATCH: (
        "{column} does not match the document type{detail}; fix the number or the document type",
        "{column} 与证件类型不符{detail}；请更正号码或证件类型",
    ),
    Reason.DERIVED_INVALID: (
        "derived column {column} is invalid{detail}; check the source columns it is computed from",
        "派生字段 {column} 无效{detail}；请核对其来源字段",
    ),
    Reason.UNKNOWN_LOAN: (
        "{column} refers to a loan that is not in the loans file; fix the loan id or add the loan",
        "{column} 引用的贷款不在贷款文件中；请更正贷款编号或补充该贷款",
    ),
    Reason.UNKNOWN_BORROWER: (
        "{column} refers to a borrower that is in neither the borrowers nor the loans file; fix the id",
        "{column} 引用的客户不在客户文件或贷款文件中；请更正客户编号",
    ),
}


def message(reason: Reason, column: str, detail: str = "") -> str:
    """Format the bilingual message of a quarantine reason.

    Parameters
    ----------
    reason : Reason
        Quarantine reason.
    column : str
        Source header (or canonical name for derived columns) the failure is in.
    detail : str
        Optional hint, for example ``" (expected >= 0)"``; never a personal value.

    Returns
    -------
    str
        ``"<English> | <中文>"``.
    """
    english, chinese = _MESSAGES[reason]
    return f"{english.format(column=column, detail=detail)} | {chinese.format(column=column, detail=detail)}"
