"""The explanation record of one debtor's automated assessment.

PIPL art. 24 gives a person the right to an explanation of a decision made by
automated means that significantly affects their rights and interests, and
the right to refuse a decision made solely by automated means. This module
builds that record for one loan of a run from the run's documented outputs
(``loans.parquet`` and ``run.json``): the scores with their meaning, the
reason codes, the category and the rule that decided it, the recommended
action, the kinds of data used, the model version, and the route to a manual
review. It holds no personal value: the loan id is the bank's own reference.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from sanhua.errors import InputFileError, SanhuaError
from sanhua.report.i18n import translate_code

_CATEGORY_TEXT = {
    "A": ("A 类（可修复）：愿意还款但暂时无力偿还，建议债务重组等修复方案", "A (repairable): willing but temporarily unable to pay; a repair plan such as restructuring is proposed"),
    "B": ("B 类（可协商）：还款意愿可通过外部协调改善，建议和解、调解等方案", "B (negotiable): willingness can be moved by outside help; settlement or mediation is proposed"),
    "C": ("C 类（待处置）：无还款意愿或已失联，建议诉讼、批量转让等处置方案", "C (to dispose): no willingness to pay, or contact lost; litigation or bulk transfer is proposed"),
}

# Reason for the category, by the segment rule that decided it.
_RULE_TEXT = {
    "lost_contact": ("已失联：近期无法联系到您本人或您的联系人", "contact lost: neither you nor your contacts could be reached recently"),
    "hardship": ("存在经济困难（如失业、疾病），优先提供纾困方案", "hardship (such as job loss or illness): relief is offered first"),
    "wavering": ("还款意愿处于中间区间", "willingness to pay is in the middle band"),
    "willing_unable": ("还款意愿较高、还款能力较低", "high willingness, low ability to pay"),
    "willing_able": ("还款意愿和还款能力均较高，建议短期还款计划", "high willingness and ability: a short repayment plan is proposed"),
    "able_unwilling": ("有还款能力但还款意愿较低", "able to pay but low willingness"),
    "unwilling_unable": ("还款意愿和还款能力均较低", "low willingness and low ability to pay"),
}

_RIGHTS = (
    "您有权要求我行就本次自动化评估作出说明，并有权拒绝仅通过自动化决策作出的决定。如需人工复核，请联系您的客户经理或拨打我行客服电话，我们将安排工作人员重新审查。",
    "You may ask the bank to explain this automated assessment and may refuse a decision made solely by automated means. "
    "To request a manual review, contact your account manager or the bank's service line; a member of staff will review the case.",
)

_DATA_SOURCES = {
    "loans": ("贷款合同及账户信息", "loan contract and account data"),
    "borrowers": ("收入与就业信息", "income and employment data"),
    "repayments": ("还款记录", "repayment history"),
    "collection_events": ("催收沟通记录", "collection contact history"),
    "contacts": ("联系人信息", "contact information"),
    "external": ("依法取得的外部数据（社保、法院、消费）", "external data obtained lawfully (social insurance, courts, consumption)"),
}


def explain_loan(run_dir: str | Path, loan_id: str) -> dict:
    """Build the explanation record of ``loan_id`` from the run folder ``run_dir``.

    Parameters
    ----------
    run_dir : path
        A folder written by ``sanhua run``.
    loan_id : str
        The bank's loan id as in ``loans.parquet``.

    Returns
    -------
    dict
        JSON-ready record with ``zh-CN`` and ``en`` texts.

    Raises
    ------
    InputFileError
        The run folder lacks ``loans.parquet`` or ``run.json``.
    SanhuaError
        The loan id is not in the run.
    """
    run_dir = Path(run_dir)
    loans_path, record_path = run_dir / "loans.parquet", run_dir / "run.json"
    for path in (loans_path, record_path):
        if not path.is_file():
            raise InputFileError(f"{path} not found; give a folder written by `sanhua run`")

    loans = pl.scan_parquet(loans_path).filter(pl.col("loan_id") == loan_id).collect()
    if loans.height == 0:
        raise SanhuaError(f"loan {loan_id!r} is not in the run {run_dir}; check the loan id against loans.parquet")
    row = loans.row(0, named=True)
    record = json.loads(record_path.read_text(encoding="utf-8"))

    category = row.get("category")
    zh_category, en_category = _CATEGORY_TEXT.get(category, (str(category), str(category)))
    tables = record.get("counts", {}).get("tables", {})
    sources = [name for name in _DATA_SOURCES if tables.get(name, {}).get("loaded", 0) > 0]
    thresholds = record.get("config", {}).get("segment", {})

    return {
        "loan_id": loan_id,
        "run_id": record.get("run_id"),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "as_of": record.get("as_of"),
        "model_version": record.get("model", {}).get("version"),
        "currency": row.get("currency"),
        "scores": {
            "willingness": row.get("willingness"),
            "ability": row.get("ability"),
            "expected_recovery_rate": row.get("expected_recovery_rate"),
            "expected_recovery": row.get("expected_recovery"),
        },
        "score_meaning": {
            "zh-CN": "还款意愿：债务人主动沟通并还款的概率；还款能力：债务人能偿还一定比例欠款的概率（0 至 1）。",
            "en": "Willingness: probability that the debtor engages and pays voluntarily; ability: probability that the debtor can pay a set share of the balance (0 to 1).",
        },
        "reasons": {
            "zh-CN": [r.strip() for r in (row.get("reasons_zh") or "").split(";") if r.strip()],
            "en": [r.strip() for r in (row.get("reasons_en") or "").split(";") if r.strip()],
        },
        "category": category,
        "segment_rule": row.get("segment_rule"),
        "category_text": {"zh-CN": zh_category, "en": en_category},
        "rule_text": dict(zip(("zh-CN", "en"), _RULE_TEXT.get(row.get("segment_rule"), ("", "")), strict=True)),
        "thresholds": thresholds,
        "action": row.get("action"),
        "action_value": row.get("action_value"),
        "hardship": row.get("hardship"),
        "lost_contact": row.get("lost_contact"),
        "data_used": {
            "zh-CN": [_DATA_SOURCES[name][0] for name in sources],
            "en": [_DATA_SOURCES[name][1] for name in sources],
        },
        "not_used": {
            "zh-CN": "性别、年龄和地区不作为还款意愿和还款能力模型的输入。",
            "en": "Gender, age and region are not inputs of the willingness and ability models.",
        },
        "rights": {"zh-CN": _RIGHTS[0], "en": _RIGHTS[1]},
    }


def explanation_text(explanation: dict, language: str) -> str:
    """Render an explanation record as plain text in ``language`` (``zh-CN`` or ``en``)."""
    zh = language == "zh-CN"
    scores = explanation["scores"]
    labels = (
        ("贷款编号", "模型版本", "数据截止日", "还款意愿", "还款能力", "预计回收", "分类", "建议处置方式", "主要原因", "使用的数据", "您的权利")
        if zh
        else ("Loan", "Model version", "Data as of", "Willingness", "Ability", "Expected recovery", "Category", "Recommended action", "Main reasons", "Data used", "Your rights")
    )
    key = "zh-CN" if zh else "en"

    def number(value: object, digits: int) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    lines = [
        f"{labels[0]}: {explanation['loan_id']}",
        f"{labels[1]}: {explanation['model_version']}",
        f"{labels[2]}: {explanation['as_of']}",
        f"{labels[3]}: {number(scores['willingness'], 2)}",
        f"{labels[4]}: {number(scores['ability'], 2)}",
        f"{labels[5]}: {number(scores['expected_recovery'], 2)} {explanation['currency']}",
        f"{labels[6]}: {explanation['category_text'][key]}",
        *([f"  {explanation['rule_text'][key]}"] if explanation["rule_text"][key] else []),
        f"{labels[7]}: {translate_code('action', str(explanation['action']), key)}",
        f"{labels[8]}:",
        *[f"  - {reason}" for reason in explanation["reasons"][key]],
        f"{labels[9]}: {'、'.join(explanation['data_used'][key]) if zh else ', '.join(explanation['data_used'][key])}",
        f"  {explanation['not_used'][key]}",
        f"{labels[10]}: {explanation['rights'][key]}",
    ]
    return "\n".join(lines)
