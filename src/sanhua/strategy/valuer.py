"""Value of every action of the catalogue for every loan, and the best feasible action.

For loan ``i`` and action ``a``::

    value[i, a] = p_success[i, a] * amount[i, a] * discount_factor[i, a] - cost[i, a]
    cost[i, a]  = fixed_cost + collection_cost_rate * p_success * amount * discount_factor (+ court fee)

in the loan's currency, present value at ``StrategySettings.discount_rate``.
Each action's ``p_success``, ``amount`` and timing are documented on its
settings class in :mod:`sanhua.strategy.settings`. Infeasible actions get null
values and are never chosen.

Feasibility: the action is enabled, allowed for the loan's category by
``StrategySettings.policy.category_actions``, and:

===========  =====================================================================
action       feasible when also
===========  =====================================================================
restructure  contact not lost, the new instalment affordable (or income unknown)
settle       contact not lost
mediate      contact not lost
outsource    (no further rule)
litigate     litigation status not ``execution_ended_no_assets``; not a hardship
             debtor without ``relief_offered``; not a vulnerable debtor
transfer     eligible product, unsecured (collateral ``none``; empty for cards)
hold         always
===========  =====================================================================

Each row also carries the capacity the action uses (``use_officers`` hours,
``use_mediation`` slots, ``use_litigation`` CNY of court fee and case cost,
``use_transfer`` and ``use_outsourcing`` CNY of EAD), ``months_to_cash``
(cash-weighted mean month of the expected cash) and ``value_low`` /
``value_high``: the value with the expected cash scaled by
``expected_recovery_rate_low / expected_recovery_rate`` (and ``_high``) when
those columns are present, except for transfer, whose price is fixed at sale.

Months since default (timing on the recovery curve, past-due band of a
transfer) come from ``dpd`` when present (``(dpd - 90) / 30.4375``, a loan
defaults at 90 days past due), else from ``as_of_date - default_date`` when
both columns exist and are filled, else from
``StrategySettings.default_months_since_default``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from sanhua.segment.rules import CATEGORIES
from sanhua.strategy.court_fees import court_fee
from sanhua.strategy.restructure import RestructureTerms, restructure_terms
from sanhua.strategy.settings import ACTIONS, ActionSettings, PolicySettings, StrategySettings
from sanhua.tape.schema import CODES
from sanhua.value.checks import (
    InputDataError,
    check_codes,
    check_no_nulls,
    check_non_negative,
    check_unit_interval,
    fill_false,
    require_columns,
)
from sanhua.value.curves import RecoveryCurve, months_between

__all__ = ["ActionValuer", "ActionResult", "INPUT_COLUMNS", "OPTIONAL_COLUMNS", "USAGE_COLUMNS", "vulnerable_flags"]

logger = logging.getLogger(__name__)

_STAGE = "strategy"
_DAYS_PER_MONTH = 365.25 / 12
_DEFAULT_DPD = 90

INPUT_COLUMNS: tuple[str, ...] = (
    "loan_id",
    "currency",
    "exposure_at_default",
    "principal_outstanding",
    "willingness",
    "ability",
    "expected_recovery_rate",
    "category",
)
"""Columns :meth:`ActionValuer.run` requires."""

OPTIONAL_COLUMNS: dict[str, pl.DataType] = {
    "product": pl.Utf8(),
    "interest_outstanding": pl.Float64(),
    "dpd": pl.Int32(),
    "written_off": pl.Boolean(),
    "collateral": pl.Utf8(),
    "litigation_status": pl.Utf8(),
    "notarised": pl.Boolean(),
    "hardship": pl.Boolean(),
    "lost_contact": pl.Boolean(),
    "short_plan": pl.Boolean(),
    "interest_rate": pl.Float64(),
    "income_annual": pl.Float64(),
    "transfer_price": pl.Float64(),
    "relief_offered": pl.Boolean(),
    "vulnerable": pl.Boolean(),
    "vulnerability": pl.Utf8(),
    "hardship_event": pl.Utf8(),
    "age": pl.Int32(),
    "expected_recovery_rate_low": pl.Float64(),
    "expected_recovery_rate_high": pl.Float64(),
}
"""Columns :meth:`ActionValuer.run` reads when present; an absent one counts as all null.

``default_date`` and ``as_of_date`` (Date) are read too when both are present.
"""

_ACTION_DTYPE = pl.Enum(list(ACTIONS))

USAGE_COLUMNS: dict[str, str] = {
    "officers": "use_officers",
    "mediation": "use_mediation",
    "litigation": "use_litigation",
    "transfer": "use_transfer",
    "outsourcing": "use_outsourcing",
}
"""Column of the value table that holds each resource's use per loan and action."""

_NUMBERS = ("p_success", "amount", "discount_factor", "cost", "value", "value_low", "value_high", "months_to_cash")


@dataclass(frozen=True)
class ActionResult:
    """Output of :class:`ActionValuer`.

    Attributes
    ----------
    values : polars.DataFrame
        Long table, one row per loan and action: ``loan_id``, ``action``
        (Enum of the catalogue), ``feasible``, ``p_success`` (probability),
        ``amount`` (cash if the action succeeds, loan currency),
        ``discount_factor`` (PV of one unit of that cash), ``cost`` (PV, loan
        currency) and ``value`` (PV net of cost). The numbers are null where
        the action is infeasible. Further: ``value_low`` and ``value_high``
        (value at the ends of the recovery interval), ``months_to_cash``
        (cash-weighted mean month), and the capacity use columns of
        :data:`USAGE_COLUMNS` (0 where infeasible): officer hours, mediation
        slots, CNY of litigation budget, CNY of EAD transferred and of EAD
        outsourced.
    chosen : polars.DataFrame
        One row per loan in input order: ``loan_id``, ``action``,
        ``action_value`` (value of the chosen action) and
        ``expected_recovery_pv`` (``expected_recovery_rate * EAD *
        curve.pv_factor``), loan currency.
    context : polars.DataFrame
        One row per loan in input order: ``loan_id``, ``currency``,
        ``category`` and ``months_since_default`` (as used for timing),
        ``exposure_at_default``, ``fx_cny_per_unit`` (CNY per unit of the
        loan's currency), ``hardship``, ``vulnerable`` and ``relief_offered``
        (bool, as the policy rules read them).
    settings : StrategySettings
        Settings used.
    terms : polars.DataFrame or None
        Offer terms per loan: the restructuring schedule of
        :class:`~sanhua.strategy.restructure.RestructureTerms` and
        ``offer_share`` / ``offer_acceptance`` of the settlement offer.
    """

    values: pl.DataFrame
    chosen: pl.DataFrame
    context: pl.DataFrame
    settings: StrategySettings
    terms: pl.DataFrame | None = None

    def summary(self) -> pl.DataFrame:
        """Summarise the chosen actions by currency, category and action.

        Returns
        -------
        polars.DataFrame
            ``currency``, ``category``, ``action``, ``loans`` (count),
            ``action_value`` and ``expected_recovery_pv`` (sums, in the
            currency of the row), ``share_of_loans`` (of the category's loans
            in that currency), sorted by currency, category and action.
        """
        chosen = pl.concat([self.context.drop("loan_id"), self.chosen], how="horizontal")
        return (
            chosen.group_by("currency", "category", "action")
            .agg(
                pl.len().alias("loans"),
                pl.col("action_value").sum(),
                pl.col("expected_recovery_pv").sum(),
            )
            .with_columns(
                (pl.col("loans") / pl.col("loans").sum().over("currency", "category")).alias("share_of_loans")
            )
            .sort("currency", "category", "action")
        )


def _annuity_factor(discount_rate: float, delay: np.ndarray | float, spread: np.ndarray | int) -> np.ndarray:
    """Mean of ``v ** (delay + j)`` for ``j = 0 .. spread - 1``, ``v = 1 / (1 + discount_rate / 12)``.

    Equal monthly payments, the first ``delay`` months from now.
    """
    delay = np.asarray(delay, dtype=float)
    spread = np.asarray(spread, dtype=float)
    monthly = discount_rate / 12
    v_delay = np.power(1.0 + monthly, -delay)
    if monthly == 0:
        return np.broadcast_to(v_delay, np.broadcast(delay, spread).shape).astype(float)

    v = 1.0 / (1.0 + monthly)
    mean_of_powers = (1.0 - np.power(v, spread)) / (1.0 - v) / spread
    return v_delay * mean_of_powers


class ActionValuer:
    """Value every action of the catalogue per loan and choose the best feasible one.

    Parameters
    ----------
    settings : StrategySettings or None
        Action parameters; defaults when None.

    Notes
    -----
    ``chosen`` is each loan's own best action, with no capacity limits. The
    plan under monthly capacities comes from
    :func:`sanhua.strategy.plan.plan_actions`, which solves the portfolio
    assignment on this result's value table.
    """

    def __init__(self, settings: StrategySettings | None = None) -> None:
        self.settings = settings

    # ------------------------------------------------------------ checks

    def _prepare(self, frame: pl.DataFrame, settings: StrategySettings) -> pl.DataFrame:
        require_columns(frame, INPUT_COLUMNS, _STAGE)
        absent = [name for name in OPTIONAL_COLUMNS if name not in frame.columns]
        if absent:
            logger.info("strategy: optional columns %s are absent and count as empty", absent)
            frame = frame.with_columns([pl.lit(None, dtype=OPTIONAL_COLUMNS[name]).alias(name) for name in absent])
        untyped = [name for name in OPTIONAL_COLUMNS if frame.schema[name] == pl.Null]
        if untyped:
            frame = frame.with_columns([pl.col(name).cast(OPTIONAL_COLUMNS[name]) for name in untyped])

        check_no_nulls(frame, ["loan_id", "currency", "category"], _STAGE)
        check_unit_interval(frame, ["willingness", "ability"], _STAGE)
        # Recoveries may exceed EAD (interest and fees accrue after default), so the rate is only non-negative.
        check_non_negative(frame, ["expected_recovery_rate", "exposure_at_default", "principal_outstanding"], _STAGE)
        check_non_negative(
            frame,
            ["interest_outstanding", "dpd", "interest_rate", "income_annual", "transfer_price", "age", "expected_recovery_rate_low", "expected_recovery_rate_high"],
            _STAGE,
            allow_null=True,
        )
        check_codes(frame, "category", CATEGORIES, _STAGE, allow_null=False)
        check_codes(frame, "product", CODES["product"], _STAGE)
        check_codes(frame, "collateral", CODES["collateral"], _STAGE)
        check_codes(frame, "litigation_status", CODES["litigation_status"], _STAGE)
        check_codes(
            frame, "currency", list(settings.fx_cny_per_unit), _STAGE, fix="Add the currency's CNY rate to strategy.fx_cny_per_unit."
        )
        frame = fill_false(frame, ["written_off", "notarised", "hardship", "lost_contact", "short_plan", "relief_offered", "vulnerable"], _STAGE)

        return frame.with_columns(
            pl.col("interest_outstanding").cast(pl.Float64).fill_null(0.0),
            self._months_since_default(frame, settings).alias("months_since_default"),
        )

    @staticmethod
    def _months_since_default(frame: pl.DataFrame, settings: StrategySettings) -> pl.Expr:
        from_dpd = ((pl.col("dpd").cast(pl.Float64) - _DEFAULT_DPD) / _DAYS_PER_MONTH).clip(lower_bound=0.0)
        months = from_dpd
        if "default_date" in frame.columns and "as_of_date" in frame.columns:
            for name in ("default_date", "as_of_date"):
                if frame.schema[name] != pl.Date:
                    raise InputDataError(f"{_STAGE}: column {name!r} must be a Date, got {frame.schema[name]}.")
            from_dates = months_between(pl.col("default_date"), pl.col("as_of_date")).cast(pl.Float64).clip(lower_bound=0.0)
            months = months.fill_null(from_dates)
        return months.fill_null(settings.default_months_since_default)

    # -------------------------------------------------------------- run

    def run(self, frame: pl.DataFrame, curve: RecoveryCurve) -> ActionResult:
        """Value each action per loan and choose the best feasible one.

        Parameters
        ----------
        frame : polars.DataFrame
            One row per loan with the columns of :data:`INPUT_COLUMNS`.
            Amounts are in the row's ``currency``. ``willingness`` and
            ``ability`` lie in [0, 1], ``expected_recovery_rate`` is >= 0, and
            ``category`` is A, B or C. The columns of
            :data:`OPTIONAL_COLUMNS` may be absent or null, and flags read
            null as false. ``default_date`` and ``as_of_date`` (Date) give
            the timing of loans without ``dpd``.
        curve : RecoveryCurve
            Fitted or configured recovery timing, used for hold, outsource
            and ``expected_recovery_pv``.

        Returns
        -------
        ActionResult

        Raises
        ------
        InputDataError
            A column is missing, null where it may not be, out of range, or
            holds an unknown code or currency.
        NotFittedError
            ``curve`` is not fitted.
        """
        settings = self.settings if self.settings is not None else StrategySettings()
        if not isinstance(settings, StrategySettings):
            raise InputDataError(f"{_STAGE}: settings must be a StrategySettings, got {type(settings).__name__}.")

        started = time.perf_counter()
        loans = self._prepare(frame, settings)
        inputs = _Inputs.from_frame(loans, settings)
        curve_pv = curve.pv_factor(settings.discount_rate, inputs.months_since_default)
        curve_months = curve.expected_months(inputs.months_since_default)

        terms = restructure_terms(
            inputs.principal, inputs.interest, inputs.interest_rate, inputs.monthly_income, inputs.short_plan, settings.restructure, settings.discount_rate
        )
        components = {
            "restructure": self._restructure(inputs, settings, terms),
            "settle": self._settle(inputs, settings),
            "mediate": self._mediate(inputs, settings),
            "outsource": self._outsource(inputs, settings, curve_pv, curve_months),
            "litigate": self._litigate(inputs, settings),
            "transfer": self._transfer(inputs, settings),
            "hold": self._hold(inputs, settings, curve_pv, curve_months),
        }
        feasible = self._feasibility(inputs, settings, terms.affordable)

        values, chosen = self._assemble(loans, inputs, components, feasible, curve_pv, settings)
        terms_frame = terms.to_frame(loans["loan_id"]).with_columns(
            pl.Series("offer_share", components["settle"]["offer_share"]),
            pl.Series("offer_acceptance", components["settle"]["p_success"]),
        )
        logger.info(
            "strategy: valued %d loans x %d actions in %.3f s; chosen %s",
            loans.height,
            len(ACTIONS),
            time.perf_counter() - started,
            dict(chosen.group_by("action").len().sort("action").iter_rows()),
        )
        context = loans.select("loan_id", "currency", "category", "months_since_default").with_columns(
            pl.Series("exposure_at_default", inputs.ead),
            pl.Series("fx_cny_per_unit", inputs.fx),
            pl.Series("hardship", inputs.hardship),
            pl.Series("vulnerable", inputs.vulnerable),
            pl.Series("relief_offered", inputs.relief_offered),
        )
        return ActionResult(values=values, chosen=chosen, context=context, settings=settings, terms=terms_frame)

    # ---------------------------------------------------- action models

    @staticmethod
    def _with_costs(
        inputs: _Inputs, action: ActionSettings, p: np.ndarray, amount: np.ndarray, df: np.ndarray, months: np.ndarray | float,
        extra_cost: np.ndarray | float = 0.0, cost_rate: np.ndarray | float | None = None, uncertain: bool = True,
    ) -> dict[str, np.ndarray]:
        rate = action.collection_cost_rate if cost_rate is None else cost_rate
        expected_cash = p * amount * df
        fixed = action.fixed_cost_cny / inputs.fx + extra_cost
        cost = fixed + rate * expected_cash
        low = inputs.ratio_low if uncertain else 1.0
        high = inputs.ratio_high if uncertain else 1.0
        return {
            "p_success": p,
            "amount": amount,
            "discount_factor": df,
            "cost": cost,
            "value": expected_cash - cost,
            "value_low": (1.0 - rate) * expected_cash * low - fixed,
            "value_high": (1.0 - rate) * expected_cash * high - fixed,
            "months_to_cash": np.broadcast_to(np.asarray(months, dtype=float), (inputs.size,)),
            "court_fee_cny": np.zeros(inputs.size),
        }

    def _restructure(self, inputs: _Inputs, settings: StrategySettings, terms: RestructureTerms) -> dict[str, np.ndarray]:
        action = settings.restructure
        ability_after = inputs.ability + action.relief_ability_gain * (1.0 - inputs.ability)
        p_redefault = 1.0 - ability_after
        p = inputs.willingness * ((1.0 - p_redefault) + p_redefault * action.paid_before_redefault)
        return self._with_costs(inputs, action, p, terms.total_paid, terms.discount_factor, terms.mean_month)

    def _settle(self, inputs: _Inputs, settings: StrategySettings) -> dict[str, np.ndarray]:
        action = settings.settle
        base = inputs.willingness * (action.ability_floor + (1.0 - action.ability_floor) * inputs.ability)
        shares = np.asarray(action.offer_shares if action.optimise_share else (action.settlement_share,), dtype=float)
        # Acceptance of each share on the grid; the offer maximises the expected share paid.
        factor = ((1.0 - shares) / (1.0 - action.settlement_share)) ** action.acceptance_elasticity
        acceptance = np.minimum(1.0, base[:, None] * factor[None, :])
        best = np.argmax(acceptance * shares[None, :], axis=1)
        share = shares[best]
        p = acceptance[np.arange(inputs.size), best]
        amount = share * inputs.claim
        df = _annuity_factor(settings.discount_rate, action.delay_months, action.spread_months) * np.ones(inputs.size)
        result = self._with_costs(inputs, action, p, amount, df, _mean_month(action.delay_months, action.spread_months))
        result["offer_share"] = share
        return result

    def _mediate(self, inputs: _Inputs, settings: StrategySettings) -> dict[str, np.ndarray]:
        action = settings.mediate
        willingness_after = inputs.willingness + action.willingness_uplift * (1.0 - inputs.willingness)
        p = willingness_after * (action.ability_floor + (1.0 - action.ability_floor) * inputs.ability)
        amount = _within_ceiling(p, action.agreed_share * inputs.claim, action.max_recovery_multiple * inputs.expected_recovery)
        df = _annuity_factor(settings.discount_rate, action.delay_months, action.spread_months) * np.ones(inputs.size)
        return self._with_costs(inputs, action, p, amount, df, _mean_month(action.delay_months, action.spread_months))

    def _outsource(self, inputs: _Inputs, settings: StrategySettings, curve_pv: np.ndarray, curve_months: np.ndarray) -> dict[str, np.ndarray]:
        action = settings.outsource
        p = np.ones(inputs.size)
        amount = np.minimum(inputs.claim_or_ead, action.recovery_uplift * inputs.expected_recovery)
        df = curve_pv * (1.0 + settings.discount_rate / 12) ** -action.delay_months
        on_book_rate = np.full(inputs.size, action.collection_cost_rate)
        # Commission tiers by days past due: each tier's rate applies from its lowest dpd up.
        for lowest, tier_rate in sorted((int(key), rate) for key, rate in action.commission_by_dpd.items()):
            on_book_rate = np.where(inputs.dpd_days >= lowest, tier_rate, on_book_rate)
        rate = np.where(inputs.written_off, action.written_off_cost_rate, on_book_rate)
        return self._with_costs(inputs, action, p, amount, df, curve_months + action.delay_months, cost_rate=rate)

    def _litigate(self, inputs: _Inputs, settings: StrategySettings) -> dict[str, np.ndarray]:
        action = settings.litigate
        status = inputs.litigation_status
        collateral_gain = _lookup(inputs.collateral, action.collateral_gain, default=0.0)
        status_factor = _lookup(status, action.status_factor, default=0.0)
        ability_eff = inputs.ability + collateral_gain * (1.0 - inputs.ability)
        p = ability_eff * status_factor
        amount = _within_ceiling(p, action.claim_share * inputs.claim, action.max_recovery_multiple * inputs.expected_recovery)

        delay = np.where(inputs.notarised, action.notarised_delay_months, _lookup(status, action.delay_by_status, default=0.0))
        df = _annuity_factor(settings.discount_rate, delay, action.spread_months)

        files_suit = _equals(status, "not_sued") & ~inputs.notarised
        fee_cny = court_fee(
            inputs.claim * inputs.fx,
            summary_procedure=action.summary_procedure,
            stack_reductions=action.stack_fee_reductions,
        )
        fee = np.where(files_suit, fee_cny / inputs.fx, 0.0)
        months = delay + (action.spread_months - 1) / 2.0
        result = self._with_costs(inputs, action, p, amount, df, months, extra_cost=fee)
        result["court_fee_cny"] = np.where(files_suit, fee_cny, 0.0)
        return result

    def _transfer(self, inputs: _Inputs, settings: StrategySettings) -> dict[str, np.ndarray]:
        action = settings.transfer
        product_rate = _lookup(inputs.product, action.product_principal_recovery, default=action.market_principal_recovery)
        years_past_due = inputs.dpd_days / 365.25
        band_rate = np.select(
            [years_past_due < 1, years_past_due < 2, years_past_due < 3],
            [action.band_under_1y, action.band_1y_to_2y, action.band_2y_to_3y],
            default=action.band_over_3y,
        )
        principal_recovery = product_rate * band_rate / action.market_principal_recovery
        p = np.ones(inputs.size)
        # A price from the valuation stage (column transfer_price) replaces the market-figure price.
        amount = np.where(np.isnan(inputs.transfer_price), principal_recovery * inputs.principal, inputs.transfer_price)
        df = _annuity_factor(settings.discount_rate, action.delay_months, action.spread_months) * np.ones(inputs.size)
        return self._with_costs(inputs, action, p, amount, df, _mean_month(action.delay_months, action.spread_months), uncertain=False)

    def _hold(self, inputs: _Inputs, settings: StrategySettings, curve_pv: np.ndarray, curve_months: np.ndarray) -> dict[str, np.ndarray]:
        action = settings.hold
        p = np.ones(inputs.size)
        return self._with_costs(inputs, action, p, inputs.expected_recovery, curve_pv, curve_months)

    # -------------------------------------------------------- feasibility

    @staticmethod
    def _feasibility(inputs: _Inputs, settings: StrategySettings, affordable: np.ndarray) -> dict[str, np.ndarray]:
        policy = settings.policy
        reachable = ~inputs.lost_contact
        transfer = settings.transfer
        unsecured = _equals(inputs.collateral, "none") | (
            inputs.collateral.is_null().to_numpy()
            & _is_in(inputs.product, transfer.unsecured_when_collateral_unknown)
        )
        hardship_blocks = inputs.hardship & ~inputs.relief_offered if policy.hardship_relief_first else np.zeros(inputs.size, dtype=bool)

        rules = {
            "restructure": reachable & affordable,
            "settle": reachable,
            "mediate": reachable,
            "outsource": np.ones(inputs.size, dtype=bool),
            "litigate": ~hardship_blocks & ~_equals(inputs.litigation_status, "execution_ended_no_assets"),
            "transfer": _is_in(inputs.product, transfer.eligible_products) & unsecured,
        }
        feasible = {}
        for name, rule in rules.items():
            allowed = np.zeros(inputs.size, dtype=bool)
            for category, actions in policy.category_actions.items():
                if name in actions:
                    allowed |= _equals(inputs.category, category)
            if name in policy.vulnerable_forbidden_actions:
                allowed &= ~inputs.vulnerable
            feasible[name] = rule & allowed & settings.action(name).enabled
        feasible["hold"] = np.ones(inputs.size, dtype=bool)
        return feasible

    # ----------------------------------------------------------- output

    @staticmethod
    def _assemble(
        loans: pl.DataFrame,
        inputs: _Inputs,
        components: dict[str, dict[str, np.ndarray]],
        feasible: dict[str, np.ndarray],
        curve_pv: np.ndarray,
        settings: StrategySettings,
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        value_matrix = np.column_stack(
            [np.where(feasible[name], components[name]["value"], -np.inf) for name in ACTIONS]
        )
        best = np.argmax(value_matrix, axis=1)
        best_value = value_matrix[np.arange(inputs.size), best]

        chosen = pl.DataFrame(
            {
                "loan_id": loans["loan_id"],
                "action": pl.Series(np.asarray(ACTIONS)[best], dtype=pl.Utf8).cast(_ACTION_DTYPE),
                "action_value": best_value,
                "expected_recovery_pv": inputs.expected_recovery * curve_pv,
            }
        )

        parts = []
        for name in ACTIONS:
            usage = _usage(name, components[name], inputs, settings)
            part = pl.DataFrame(
                {
                    "loan_id": loans["loan_id"],
                    "feasible": feasible[name],
                    **{key: np.broadcast_to(components[name][key], (inputs.size,)) for key in _NUMBERS},
                    **{USAGE_COLUMNS[resource]: np.where(feasible[name], amount, 0.0) for resource, amount in usage.items()},
                }
            )
            parts.append(
                part.select(
                    "loan_id",
                    pl.lit(name, dtype=_ACTION_DTYPE).alias("action"),
                    "feasible",
                    *[pl.when(pl.col("feasible")).then(pl.col(key)).alias(key) for key in _NUMBERS],
                    *USAGE_COLUMNS.values(),
                )
            )
        values = pl.concat(parts, how="vertical")
        return values, chosen


def _mean_month(delay: float, spread: int) -> float:
    """Mean month of ``spread`` equal monthly payments, the first ``delay`` months from now."""
    return delay + (spread - 1) / 2.0


def _usage(name: str, component: dict[str, np.ndarray], inputs: _Inputs, settings: StrategySettings) -> dict[str, np.ndarray]:
    """Capacity one loan uses under action ``name``: officer hours, mediation slots, CNY of litigation budget and of EAD."""
    action = settings.action(name)
    zeros = np.zeros(inputs.size)
    usage = {resource: zeros for resource in USAGE_COLUMNS}
    usage["officers"] = np.full(inputs.size, action.officer_hours)
    if name == "mediate":
        usage["mediation"] = np.full(inputs.size, settings.mediate.slots_per_case)
    elif name == "litigate":
        usage["litigation"] = settings.litigate.fixed_cost_cny + component["court_fee_cny"]
    elif name == "transfer":
        usage["transfer"] = inputs.ead * inputs.fx
    elif name == "outsource":
        usage["outsourcing"] = inputs.ead * inputs.fx
    return usage


def _within_ceiling(p: np.ndarray, amount: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """Return ``amount`` lowered where needed so that ``p * amount`` stays within ``ceiling`` (expected gross cash)."""
    expected = p * amount
    return np.where(expected > ceiling, amount * ceiling / np.maximum(expected, 1e-12), amount)


def _lookup(codes: pl.Series, mapping: dict[str, float], default: float) -> np.ndarray:
    """Map a column of codes to floats; nulls and codes absent from ``mapping`` get ``default``."""
    return codes.replace_strict(mapping, default=default, return_dtype=pl.Float64).fill_null(default).to_numpy()


def _equals(codes: pl.Series, code: str) -> np.ndarray:
    """Boolean array: the code equals ``code`` (null is not equal)."""
    return (codes == code).fill_null(False).to_numpy()


def _is_in(codes: pl.Series, allowed: tuple[str, ...] | list[str]) -> np.ndarray:
    """Boolean array: the code is one of ``allowed`` (null is not)."""
    return codes.is_in(list(allowed)).fill_null(False).to_numpy()


@dataclass(frozen=True)
class _Inputs:
    """Per-loan inputs of the action models: NumPy arrays for numbers and flags, Series for codes (loan currency)."""

    size: int
    willingness: np.ndarray
    ability: np.ndarray
    principal: np.ndarray
    interest: np.ndarray
    claim: np.ndarray
    claim_or_ead: np.ndarray
    expected_recovery: np.ndarray
    months_since_default: np.ndarray
    dpd_days: np.ndarray
    fx: np.ndarray
    category: pl.Series
    product: pl.Series
    collateral: pl.Series
    litigation_status: pl.Series
    written_off: np.ndarray
    notarised: np.ndarray
    hardship: np.ndarray
    lost_contact: np.ndarray
    short_plan: np.ndarray
    ead: np.ndarray
    interest_rate: np.ndarray
    monthly_income: np.ndarray
    transfer_price: np.ndarray
    relief_offered: np.ndarray
    vulnerable: np.ndarray
    ratio_low: np.ndarray
    ratio_high: np.ndarray

    @classmethod
    def from_frame(cls, loans: pl.DataFrame, settings: StrategySettings) -> _Inputs:
        def floats(name: str) -> np.ndarray:
            return loans[name].cast(pl.Float64).to_numpy()

        def codes(name: str) -> pl.Series:
            return loans[name].cast(pl.Utf8)

        def flags(name: str) -> np.ndarray:
            return loans[name].to_numpy().astype(bool)

        principal = floats("principal_outstanding")
        interest = floats("interest_outstanding")
        ead = floats("exposure_at_default")
        months = floats("months_since_default")
        dpd = loans["dpd"].cast(pl.Float64).to_numpy()
        dpd_days = np.where(np.isnan(dpd), _DEFAULT_DPD + months * _DAYS_PER_MONTH, dpd)
        fx = loans.select(pl.col("currency").replace_strict(settings.fx_cny_per_unit, return_dtype=pl.Float64)).to_series().to_numpy()
        rate = floats("expected_recovery_rate")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_low = np.where(rate > 0, floats("expected_recovery_rate_low") / rate, 1.0)
            ratio_high = np.where(rate > 0, floats("expected_recovery_rate_high") / rate, 1.0)

        return cls(
            size=loans.height,
            willingness=floats("willingness"),
            ability=floats("ability"),
            principal=principal,
            interest=interest,
            claim=principal + interest,
            claim_or_ead=np.maximum(principal + interest, ead),
            expected_recovery=floats("expected_recovery_rate") * ead,
            months_since_default=months,
            dpd_days=dpd_days,
            fx=fx,
            category=codes("category"),
            product=codes("product"),
            collateral=codes("collateral"),
            litigation_status=codes("litigation_status").fill_null("not_sued"),
            written_off=flags("written_off"),
            notarised=flags("notarised"),
            hardship=flags("hardship"),
            lost_contact=flags("lost_contact"),
            short_plan=flags("short_plan"),
            ead=ead,
            interest_rate=floats("interest_rate"),
            monthly_income=floats("income_annual") / 12.0,
            transfer_price=floats("transfer_price"),
            relief_offered=flags("relief_offered"),
            vulnerable=vulnerable_flags(loans, settings.policy),
            ratio_low=np.nan_to_num(ratio_low, nan=1.0),
            ratio_high=np.nan_to_num(ratio_high, nan=1.0),
        )


def vulnerable_flags(loans: pl.DataFrame, policy: PolicySettings) -> np.ndarray:
    """Flag vulnerable debtors by the rules of :class:`~sanhua.strategy.settings.PolicySettings` (bool per row).

    Absent columns count as not vulnerable: ``vulnerable`` (bool),
    ``vulnerability`` (text), ``hardship_event`` (text) and ``age`` (years).
    """
    flag = pl.lit(False)
    if "vulnerable" in loans.columns:
        flag = flag | pl.col("vulnerable").cast(pl.Boolean).fill_null(False)
    if "vulnerability" in loans.columns:
        text = pl.col("vulnerability").cast(pl.Utf8).str.strip_chars().str.to_lowercase()
        flag = flag | (text.is_not_null() & ~text.is_in(list(policy.not_vulnerable_values))).fill_null(False)
    if "hardship_event" in loans.columns:
        event = pl.col("hardship_event").cast(pl.Utf8).str.strip_chars().str.to_lowercase()
        flag = flag | event.is_in(list(policy.vulnerable_hardship_events)).fill_null(False)
    if "age" in loans.columns and policy.vulnerable_age is not None:
        flag = flag | (pl.col("age") >= policy.vulnerable_age).fill_null(False)
    return loans.select(flag.alias("vulnerable")).to_series().to_numpy().astype(bool)


