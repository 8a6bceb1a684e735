"""Canonical tables of a loan tape: columns, types, units and meaning.

This module is the single place where the canonical schema is written down.
Every reader, mapping profile, model and report refers to these names.

Conventions
-----------
- Money columns are ``Float64`` in the currency of the row's ``currency``
  column (ISO 4217 code, for example ``CNY`` or ``USD``). They are amounts,
  never thousands or ten-thousands of a unit.
- Rates are annual fractions (``0.056`` for 5.6 % a year) unless the column
  name says otherwise.
- Dates are ``pl.Date`` and timestamps ``pl.Datetime("us")`` once past the
  reader; strings never reach a model.
- ``as_of_date`` is the cut-off date of the tape: the state of each loan is
  known up to and including that date, and nothing after it may be used as a
  feature.
- Personal columns (``personal`` below) never leave ingest in clear. Each is
  replaced by ``<column>_hash`` (keyed HMAC-SHA256, hex) and
  ``<column>_masked`` (display form, for example ``110105********1234``).
  Identity documents, phones and cards also get ``<column>_valid``
  (``Boolean``: the check digit or format passed).
- Protected attributes (``gender``, ``age``) and the sensitive ``region`` are
  kept for fairness tests and valuation; the willingness and ability models
  never read them.

Code lists (the canonical values of code columns) are in :data:`CODES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

__all__ = [
    "Column",
    "TableSchema",
    "CODES",
    "TABLES",
    "TABLE_NAMES",
    "LOANS",
    "BORROWERS",
    "REPAYMENTS",
    "COLLECTION_EVENTS",
    "CONTACTS",
    "EXTERNAL",
    "OUTCOMES",
    "OUTPUT_COLUMNS",
]


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Parameters
    ----------
    name : str
        Canonical column name.
    dtype : polars data type
        Type after parsing.
    description : str
        Meaning, with the unit for numbers.
    required : bool
        A row without a value is quarantined (reason ``missing_required``).
    kind : str
        Parser to apply to the source value: ``text``, ``code``, ``amount``,
        ``rate``, ``int``, ``float``, ``date``, ``datetime``, ``bool``, or one
        of the personal kinds ``name``, ``id_number``, ``phone``, ``card``,
        ``address``, ``free_text``, ``email``.
    minimum, maximum : float or None
        Inclusive range check for numbers (reason ``out_of_range``).
    code_list : str or None
        Key into :data:`CODES` for ``code`` columns (reason ``invalid_code``).
    personal : bool
        Pseudonymised at ingest; never written in clear.
    protected : bool
        Protected or sensitive attribute: never a willingness or ability
        feature.
    """

    name: str
    dtype: pl.DataType | type[pl.DataType]
    description: str
    required: bool = False
    kind: str = "text"
    minimum: float | None = None
    maximum: float | None = None
    code_list: str | None = None
    personal: bool = False
    protected: bool = False


@dataclass(frozen=True)
class TableSchema:
    """A canonical table: its name, key and columns."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        """Return the column called ``name`` or raise ``KeyError``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no canonical column {name!r}")

    @property
    def names(self) -> list[str]:
        """Canonical column names in schema order."""
        return [col.name for col in self.columns]

    @property
    def personal(self) -> list[str]:
        """Names of the personal columns."""
        return [col.name for col in self.columns if col.personal]


CODES: dict[str, tuple[str, ...]] = {
    # Retail products handled by the platform.
    "product": ("credit_card", "consumer_loan", "business_loan", "mortgage", "auto_loan", "other"),
    # Five-tier loan classification (2023 risk-classification rules).
    "five_tier": ("normal", "special_mention", "substandard", "doubtful", "loss"),
    "collateral": ("none", "mortgage", "pledge", "guarantee"),
    # Litigation status as disclosed in bulk-transfer package announcements.
    "litigation_status": (
        "not_sued",
        "in_suit",
        "judged",
        "in_execution",
        "execution_ended_no_assets",
        "mediated",
    ),
    # Identity document types: 18-digit resident ID (MOD 11-2 check), 15-digit
    # legacy resident ID, residence permit for Hong Kong, Macao and Taiwan
    # residents (area codes 81/82/83, same check), foreigner's permanent
    # residence ID (18 characters starting with 9, same check), and passports,
    # which are only checked for a plausible length.
    "id_type": ("resident_id", "resident_id_15", "residence_permit_hmt", "foreign_permanent", "passport", "other"),
    "gender": ("male", "female"),
    "employment": ("employed", "self_employed", "unemployed", "retired", "student", "other"),
    "repayment_kind": ("instalment", "partial", "payoff", "settlement", "recovery"),
    "channel": ("phone", "sms", "letter", "visit", "ai_voice", "mediation", "legal"),
    "event_outcome": (
        "no_answer",
        "right_party",
        "third_party",
        "promise",
        "refuse",
        "dispute",
        "complaint",
        "paid",
    ),
    "relation": ("spouse", "parent", "child", "relative", "friend", "colleague", "other"),
    # Lawful basis for processing an external record (PIPL art. 13).
    "legal_basis": ("consent", "contract", "legal_obligation", "none"),
    # Kind of cash in the outcomes table: recovered by collection or
    # enforcement, paid under a settlement, or paid voluntarily by an engaged
    # debtor.
    "outcome_kind": ("recovery", "settlement", "voluntary"),
}

_AMOUNT = "amount in the row's currency"

LOANS = TableSchema(
    name="loans",
    description="One row per loan at the cut-off date.",
    key=("loan_id",),
    columns=(
        Column("loan_id", pl.Utf8, "Loan id from the source system; `row-<n>` when the source has none.", required=True),
        Column("borrower_id", pl.Utf8, "Debtor id: the source's customer number, pseudonymised.", personal=True, kind="name"),
        Column("product", pl.Utf8, "Product code.", kind="code", code_list="product"),
        Column("currency", pl.Utf8, "ISO 4217 currency of every amount in the row."),
        Column("origination_date", pl.Date, "Disbursement date.", kind="date"),
        Column("maturity_date", pl.Date, "Contractual maturity date.", kind="date"),
        Column("default_date", pl.Date, "Date the loan defaulted (first day past 90 DPD or charge-off).", kind="date"),
        Column("last_payment_date", pl.Date, "Date of the last payment received before the cut-off.", kind="date"),
        Column("as_of_date", pl.Date, "Cut-off date of the loan's state.", required=True, kind="date"),
        Column("principal_original", pl.Float64, f"Original principal, {_AMOUNT}.", kind="amount", minimum=0),
        Column("principal_outstanding", pl.Float64, f"Outstanding principal at the cut-off, {_AMOUNT}.", required=True, kind="amount", minimum=0),
        Column("interest_outstanding", pl.Float64, f"Interest owed at the cut-off, {_AMOUNT}.", kind="amount", minimum=0),
        Column("fees_outstanding", pl.Float64, f"Fees and penalties owed at the cut-off, {_AMOUNT}.", kind="amount", minimum=0),
        Column("exposure_at_default", pl.Float64, f"Exposure at default (EAD), {_AMOUNT}; defaults to principal + interest + fees outstanding.", kind="amount", minimum=0),
        Column("interest_rate", pl.Float64, "Contract interest rate, annual fraction.", kind="rate", minimum=0, maximum=1),
        Column("term_months", pl.Int32, "Contract term in months.", kind="int", minimum=1, maximum=480),
        Column("installment", pl.Float64, f"Scheduled monthly instalment, {_AMOUNT}.", kind="amount", minimum=0),
        Column("dpd", pl.Int32, "Days past due at the cut-off.", kind="int", minimum=0, maximum=36500),
        Column("five_tier", pl.Utf8, "Five-tier classification.", kind="code", code_list="five_tier"),
        Column("written_off", pl.Boolean, "Written off (charged off) at the cut-off.", kind="bool"),
        Column("collateral", pl.Utf8, "Collateral or guarantee type.", kind="code", code_list="collateral"),
        Column("region", pl.Utf8, "Region of the loan (province); sensitive, never a willingness or ability feature.", protected=True),
        Column("litigation_status", pl.Utf8, "Litigation status.", kind="code", code_list="litigation_status"),
        Column("grade", pl.Utf8, "Source's internal risk grade."),
        Column("notarised", pl.Boolean, "Contract carries a notarised enforceable instrument (公证赋强).", kind="bool"),
        Column("note", pl.Utf8, "Free-text remark; may hold personal data.", kind="free_text", personal=True),
    ),
)

BORROWERS = TableSchema(
    name="borrowers",
    description="One row per debtor.",
    key=("borrower_id",),
    columns=(
        Column("borrower_id", pl.Utf8, "Debtor id: the source's customer number, pseudonymised.", required=True, personal=True, kind="name"),
        Column("name", pl.Utf8, "Debtor's name.", kind="name", personal=True),
        Column("id_type", pl.Utf8, "Identity document type.", kind="code", code_list="id_type"),
        Column("id_number", pl.Utf8, "Identity document number, checked by its type.", kind="id_number", personal=True),
        Column("phone", pl.Utf8, "Mobile phone number (11 digits starting with 1).", kind="phone", personal=True),
        Column("email", pl.Utf8, "E-mail address.", kind="email", personal=True),
        Column("address", pl.Utf8, "Home address.", kind="address", personal=True),
        Column("card_number", pl.Utf8, "Bank card number (15-19 digits, Luhn check).", kind="card", personal=True),
        Column("gender", pl.Utf8, "Gender; protected, fairness tests only.", kind="code", code_list="gender", protected=True),
        Column("birth_date", pl.Date, "Date of birth; protected.", kind="date", protected=True),
        Column("age", pl.Int32, "Age in whole years at the cut-off; protected.", kind="int", minimum=16, maximum=120, protected=True),
        Column("income_annual", pl.Float64, f"Annual income, {_AMOUNT}.", kind="amount", minimum=0),
        Column("employment", pl.Utf8, "Employment status.", kind="code", code_list="employment"),
        Column("employment_years", pl.Float64, "Years in current employment.", kind="float", minimum=0, maximum=70),
        Column("employer", pl.Utf8, "Employer or job title as free text; may hold personal data.", kind="free_text", personal=True),
        Column("region", pl.Utf8, "Region of residence; sensitive.", protected=True),
    ),
)

REPAYMENTS = TableSchema(
    name="repayments",
    description="Repayment flow: one row per payment received.",
    key=(),
    columns=(
        Column("loan_id", pl.Utf8, "Loan id.", required=True),
        Column("date", pl.Date, "Value date of the payment.", required=True, kind="date"),
        Column("amount", pl.Float64, f"Amount paid, {_AMOUNT}.", required=True, kind="amount", minimum=0),
        Column("kind", pl.Utf8, "Payment kind.", kind="code", code_list="repayment_kind"),
    ),
)

COLLECTION_EVENTS = TableSchema(
    name="collection_events",
    description="Collection actions and their outcomes.",
    key=(),
    columns=(
        Column("loan_id", pl.Utf8, "Loan id.", required=True),
        Column("timestamp", pl.Datetime("us"), "Time of the action (local time).", required=True, kind="datetime"),
        Column("channel", pl.Utf8, "Channel.", kind="code", code_list="channel", required=True),
        Column("outcome", pl.Utf8, "Outcome.", kind="code", code_list="event_outcome", required=True),
        Column("promise_amount", pl.Float64, f"Promised amount, {_AMOUNT}.", kind="amount", minimum=0),
        Column("promise_date", pl.Date, "Promised payment date.", kind="date"),
        Column("note", pl.Utf8, "Collector's free-text note; may hold personal data.", kind="free_text", personal=True),
    ),
)

CONTACTS = TableSchema(
    name="contacts",
    description="Edges of the relationship graph: a debtor and one of their contacts.",
    key=(),
    columns=(
        Column("borrower_id", pl.Utf8, "Debtor id, pseudonymised.", required=True, personal=True, kind="name"),
        Column("contact_name", pl.Utf8, "Contact's name.", kind="name", personal=True),
        Column("contact_phone", pl.Utf8, "Contact's phone.", kind="phone", personal=True),
        Column("relation", pl.Utf8, "Relation to the debtor.", kind="code", code_list="relation"),
        Column("reachable", pl.Boolean, "The contact answered at the last attempt.", kind="bool"),
    ),
)

EXTERNAL = TableSchema(
    name="external",
    description="External data per debtor (social insurance, courts, consumption), each row with its legal basis.",
    key=(),
    columns=(
        Column("borrower_id", pl.Utf8, "Debtor id, pseudonymised.", required=True, personal=True, kind="name"),
        Column("source", pl.Utf8, "Data provider.", required=True),
        Column("field", pl.Utf8, "Field name, for example `social_insurance_status`.", required=True),
        Column("value", pl.Utf8, "Value as text; numbers are parsed by the feature builder."),
        Column("as_of_date", pl.Date, "Date the value was observed.", required=True, kind="date"),
        Column("legal_basis", pl.Utf8, "Lawful basis for processing the record.", kind="code", code_list="legal_basis", required=True),
    ),
)

OUTCOMES = TableSchema(
    name="outcomes",
    description="Cash recovered after default (history only): by month, or one lifetime row per loan when timing is unknown.",
    key=(),
    columns=(
        Column("loan_id", pl.Utf8, "Loan id.", required=True),
        Column("month", pl.Int32, "Months after default (1 = first month); empty for a lifetime total.", kind="int", minimum=0, maximum=600),
        Column("amount", pl.Float64, f"Cash recovered, gross of collection costs, {_AMOUNT}.", required=True, kind="amount", minimum=0),
        Column("kind", pl.Utf8, "How the cash came in.", kind="code", code_list="outcome_kind"),
    ),
)

TABLES: dict[str, TableSchema] = {
    t.name: t for t in (LOANS, BORROWERS, REPAYMENTS, COLLECTION_EVENTS, CONTACTS, EXTERNAL, OUTCOMES)
}
TABLE_NAMES: tuple[str, ...] = tuple(TABLES)

# Columns of RUN_DIR/loans.parquet, fixed for every later stage and issue.
OUTPUT_COLUMNS: dict[str, str] = {
    "loan_id": "Loan id as in the source, so results join back to the bank's systems.",
    "currency": "ISO 4217 currency of the amounts in the row.",
    "willingness": "Calibrated probability that the debtor engages and pays voluntarily, [0, 1].",
    "ability": "Calibrated probability that the debtor can pay the configured share of the balance, [0, 1].",
    "category": "Disposal category: A (repair), B (transform) or C (quick exit).",
    "expected_recovery": "Expected gross lifetime recovery, amount in the row's currency.",
    "expected_recovery_pv": "Present value of expected_recovery at the configured discount rate, amount in the row's currency.",
    "action": "Chosen action from the action catalogue.",
    "action_value": "Expected value of the chosen action net of its cost, present value in the row's currency.",
    "reasons_zh": "Top three reason codes in Simplified Chinese.",
    "reasons_en": "Top three reason codes in English.",
}
