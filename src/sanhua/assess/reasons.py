"""Reason codes: the features that moved a debtor's scores most, in zh-CN and English.

A reason is one feature contribution from LightGBM's ``pred_contrib`` (the
TreeSHAP value on the model's log-odds scale) of the willingness or the
ability model. The top ``n`` by absolute value across both models are shown
with the model, the direction and the feature's value, for example
``还款意愿↓ 距上次还款月数=14.2`` / ``willingness↓ months since last payment=14.2``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# Feature labels: name -> (zh-CN, English). Unknown names fall back to the name itself.
FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "log_ead": ("违约风险暴露(对数)", "exposure at default (log)"),
    "share_principal_repaid": ("已还本金比例", "share of principal repaid"),
    "months_on_book": ("账龄(月)", "months on book"),
    "months_since_last_payment": ("距上次还款月数", "months since last payment"),
    "months_since_default": ("违约后月数", "months since default"),
    "months_to_maturity": ("距到期月数", "months to maturity"),
    "dpd": ("逾期天数", "days past due"),
    "interest_rate": ("执行利率", "interest rate"),
    "term_months": ("期限(月)", "term (months)"),
    "installment": ("月供", "instalment"),
    "written_off": ("已核销", "written off"),
    "notarised": ("公证赋强", "notarised contract"),
    "product": ("产品类型", "product"),
    "five_tier": ("五级分类", "five-tier class"),
    "collateral": ("担保方式", "collateral"),
    "litigation_status": ("诉讼状态", "litigation status"),
    "grade": ("内部评级", "internal grade"),
    "income_annual": ("年收入", "annual income"),
    "employment": ("就业状态", "employment"),
    "employment_years": ("工作年限", "years employed"),
    "installment_to_income": ("月供收入比", "instalment to income"),
    "ead_to_income": ("欠款收入比", "exposure to income"),
    "n_payments": ("还款次数", "number of payments"),
    "share_months_paid": ("按月还款比例", "share of months paid"),
    "payment_gap_cv": ("还款间隔波动", "payment irregularity"),
    "days_since_last_repayment": ("距上次还款天数", "days since last repayment"),
    "paid_total_to_ead": ("累计还款占欠款比", "paid to exposure"),
    "n_contacts": ("催收次数", "collection attempts"),
    "contact_rate": ("本人接通率", "right-party contact rate"),
    "right_party_contacts": ("本人接通次数", "right-party contacts"),
    "promises_made": ("承诺还款次数", "promises to pay"),
    "promise_kept_rate": ("承诺兑现率", "promises kept"),
    "promise_share": ("接通后承诺比例", "promises per right-party contact"),
    "refusal_share": ("接通后拒绝比例", "refusals per right-party contact"),
    "broken_promise_streak": ("连续未兑现承诺", "broken promises in a row"),
    "refusals": ("拒绝还款次数", "refusals"),
    "disputes": ("争议次数", "disputes"),
    "complaints": ("投诉次数", "complaints"),
    "days_since_last_contact": ("距上次接通天数", "days since last contact"),
    "n_contacts_graph": ("联系人数", "contacts in graph"),
    "n_reachable_contacts": ("可联系人数", "reachable contacts"),
    "social_insurance_status": ("社保状态", "social insurance status"),
    "social_insurance_base": ("社保缴费基数", "social insurance base"),
    "court_enforcement_count": ("被执行记录数", "court enforcement records"),
    "dishonest_debtor": ("失信被执行人", "dishonest judgment debtor"),
    "consumption_index": ("消费指数", "consumption index"),
    # LendingClub extras.
    "annual_inc": ("年收入", "annual income"),
    "dti": ("负债收入比", "debt to income"),
    "revol_bal": ("循环授信余额", "revolving balance"),
    "revol_util": ("循环授信使用率", "revolving utilisation"),
    "open_acc": ("未结清账户数", "open accounts"),
    "total_acc": ("账户总数", "total accounts"),
    "home_ownership": ("住房状况", "home ownership"),
    "total_rec_int": ("已还利息", "interest repaid"),
    "total_rec_late_fee": ("已付滞纳金", "late fees paid"),
    "total_rec_prncp": ("已还本金", "principal repaid"),
    "last_pymnt_amnt": ("最后一次还款额", "last payment amount"),
    "delinq_2yrs": ("两年内逾期次数", "delinquencies in 2 years"),
    "inq_last_6mths": ("近6个月查询次数", "inquiries in 6 months"),
    "mths_since_last_delinq": ("距上次逾期月数", "months since last delinquency"),
    "mths_since_last_record": ("距上次公共记录月数", "months since last public record"),
    "pub_rec": ("公共记录数", "public records"),
    "pub_rec_bankruptcies": ("破产记录数", "bankruptcies"),
    "purpose": ("借款用途", "loan purpose"),
    "verification_status": ("收入核验状态", "income verification"),
    "funded_amnt_inv": ("投资人出资额", "amount funded by investors"),
    "loan_amnt": ("申请金额", "loan amount"),
    "sub_grade": ("细分评级", "sub-grade"),
    "earliest_cr_line": ("最早信用账户", "earliest credit line"),
    "initial_list_status": ("挂牌方式", "initial listing status"),
    "tax_liens": ("税务留置数", "tax liens"),
}

MODEL_LABELS = {"willingness": ("还款意愿", "willingness"), "ability": ("还款能力", "ability")}


def label(name: str, language: str) -> str:
    """Return the display label of feature ``name`` in ``language`` (``zh-CN`` or ``en``)."""
    zh, en = FEATURE_LABELS.get(name, (name, name))
    return zh if language == "zh-CN" else en


def reason_codes(
    contributions: dict[str, np.ndarray],
    features: dict[str, list[str]],
    values: dict[str, pl.DataFrame],
    n: int = 3,
) -> tuple[pl.Series, pl.Series]:
    """Build per-debtor reason texts from feature contributions.

    Parameters
    ----------
    contributions : dict
        Model name -> array of shape (n_loans, n_features) of contributions
        (bias column removed), log-odds.
    features : dict
        Model name -> feature names in column order.
    values : dict
        Model name -> frame of the feature values shown beside each reason
        (same row order; category features as labels).
    n : int
        Reasons per debtor.

    Returns
    -------
    reasons_zh, reasons_en : pl.Series
        ``"; "``-joined reasons, strongest first.
    """
    names: list[tuple[str, str]] = []
    blocks = []
    for model, contrib in contributions.items():
        blocks.append(contrib)
        names.extend((model, feature) for feature in features[model])
    matrix = np.hstack(blocks)
    n_rows = matrix.shape[0]
    if n_rows == 0:
        empty = pl.Series([], dtype=pl.Utf8)
        return empty.alias("reasons_zh"), empty.alias("reasons_en")
    k = min(n, matrix.shape[1])
    picks = _strongest(matrix, k)

    # Text of each picked value, formatted only for the rows that show it.
    formats = []
    for model in contributions:
        frame = values[model]
        formats.extend((frame.get_column(c), _shown_text(frame.schema[c])) for c in features[model])

    model_labels = [MODEL_LABELS[model] for model, _ in names]
    rows = np.arange(n_rows)
    columns: dict[str, pl.Series] = {}
    for position, cols in enumerate(picks):
        positive = pl.DataFrame({"up": matrix[rows, cols] >= 0})
        columns[f"sign{position}"] = positive.select(pl.when(pl.col("up")).then(pl.lit("↑")).otherwise(pl.lit("↓"))).to_series()
        columns[f"value{position}"] = _picked_text(cols, formats)
        index = pl.Series(cols)
        for language, i in (("zh-CN", 0), ("en", 1)):
            columns[f"model_{language}{position}"] = pl.Series([m[i] for m in model_labels], dtype=pl.Utf8).gather(index)
            columns[f"feature_{language}{position}"] = pl.Series([label(f, language) for _, f in names], dtype=pl.Utf8).gather(index)
    parts = pl.DataFrame(columns)

    def joined(language: str) -> pl.Expr:
        pieces = [
            pl.concat_str(
                pl.col(f"model_{language}{p}"), pl.col(f"sign{p}"), pl.lit(" "),
                pl.col(f"feature_{language}{p}"), pl.lit("="), pl.col(f"value{p}"),
            )
            for p in range(k)
        ]
        return pl.concat_str(pieces, separator="; ")

    result = parts.select(joined("zh-CN").alias("reasons_zh"), joined("en").alias("reasons_en"))
    return result["reasons_zh"], result["reasons_en"]


def _strongest(matrix: np.ndarray, k: int) -> list[np.ndarray]:
    """Return, per rank, the column of each row's largest absolute values.

    Equal strengths rank by column order, and NaN ranks last, as a stable
    ``argsort`` of ``-abs(matrix)`` would; ``k`` passes of ``argmax`` avoid
    sorting every row.
    """
    strength = np.abs(matrix)
    strength[np.isnan(strength)] = -0.5
    rows = np.arange(matrix.shape[0])
    picks = []
    for _ in range(k):
        cols = np.argmax(strength, axis=1)
        picks.append(cols)
        strength[rows, cols] = -1.0
    return picks


def _shown_text(dtype: pl.DataType) -> pl.Expr:
    """Return the expression that shows a feature value: rounded numbers, labels as they are, NA when null."""
    value = pl.col("value")
    text = value.round(2).cast(pl.Utf8) if dtype.is_numeric() else value.cast(pl.Utf8)
    return pl.when(value.is_null()).then(pl.lit("NA")).otherwise(text)


def _picked_text(cols: np.ndarray, formats: list[tuple[pl.Series, pl.Expr]]) -> pl.Series:
    """Return, per row, the shown text of the value in column ``cols[row]``."""
    order = np.argsort(cols, kind="stable")
    bounds = np.searchsorted(cols[order], np.arange(len(formats) + 1))
    pieces = []
    for j, (series, shown) in enumerate(formats):
        if bounds[j + 1] > bounds[j]:
            picked = series.gather(order[bounds[j] : bounds[j + 1]]).alias("value")
            pieces.append(picked.to_frame().select(shown).to_series())
    grouped = pl.concat(pieces)
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    return grouped.gather(position)
