"""External data of a demo book: one snapshot per debtor, observed before the as-of date.

Fields and their values (``value`` is text, as the external table stores it):

=========================  ====================  ==========================================
field                      values                driven by
=========================  ====================  ==========================================
social_insurance_status    active, lapsed, none  ability now; lapsed during a hardship
social_insurance_base      CNY a month           income (absent when status is none)
court_enforcement_count    0, 1, 2, ...          low ability; an enforcement case adds one
dishonest_debtor           true, false           low ability and willingness; no assets
consumption_index          0-100                 ability now
hardship_event             none, illness,        the hardship, when the debtor declared it
                           job_loss, accident,
                           business_failure
vulnerability              none, elderly,        the vulnerability flag
                           serious_illness,
                           disability
=========================  ====================  ==========================================

A share ``legal_basis_none_share`` of the rows carries legal basis ``none``:
the pipeline must refuse them.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.special import ndtr

from sanhua.demo.book import BookState
from sanhua.demo.debtors import HARDSHIP_ABILITY_FACTOR, HARDSHIP_KINDS, VULNERABILITY_KINDS
from sanhua.demo.people import debtor_as_of, debtor_gap
from sanhua.demo.settings import DemoSettings

__all__ = ["build_external", "EXTERNAL_FIELDS"]

# field -> (source as the bank's data catalogue names it, usual legal basis)
EXTERNAL_FIELDS: dict[str, tuple[str, str]] = {
    "social_insurance_status": ("人社部门社保查询", "consent"),
    "social_insurance_base": ("人社部门社保查询", "consent"),
    "court_enforcement_count": ("法院执行信息公开网", "legal_obligation"),
    "dishonest_debtor": ("法院执行信息公开网", "legal_obligation"),
    "consumption_index": ("银联商务消费指数", "consent"),
    "hardship_event": ("客户申报", "contract"),
    "vulnerability": ("客户申报", "consent"),
}


def build_external(rng: np.random.Generator, state: BookState, borrowers: pl.DataFrame, settings: DemoSettings) -> pl.DataFrame:
    """Build the canonical external table of a book (plus ``_debtor``)."""
    debtors = state.debtors
    n = debtors.size
    as_of = debtor_as_of(state)
    gap = debtor_gap(state)
    in_hardship = debtors.hardship & (gap <= debtors.hardship_end)
    ability_now = np.where(in_hardship, debtors.ability * HARDSHIP_ABILITY_FACTOR, debtors.ability)
    willingness = debtors.willingness
    employment = borrowers["employment"].to_numpy()
    income = borrowers["income_annual"].to_numpy()

    active_p = ndtr(3.0 * (ability_now - 0.3))
    draw = rng.random(n)
    status = np.select(
        [
            in_hardship | (employment == "unemployed"),
            (employment == "self_employed") & (draw < 0.4),
            draw < active_p,
        ],
        ["lapsed", "none", "active"],
        default="lapsed",
    )
    status = np.where((status == "lapsed") & (draw > 0.9), "none", status)
    base = np.clip(np.round(income / 12.0 * rng.uniform(0.5, 0.9, n), -1), 4000.0, 36000.0)

    # Enforcement cases on this or other debts, and the blacklist.
    loans = state.loans
    executing = np.zeros(n, dtype=bool)
    no_assets = np.zeros(n, dtype=bool)
    executing[loans.owner[state.litigation.execution <= state.gap]] = True
    no_assets[loans.owner[state.litigation.ended <= state.gap]] = True
    enforcement = rng.poisson(3.0 * (1.0 - debtors.ability) ** 2) + executing.astype(np.int64)
    dishonest = (no_assets & (rng.random(n) < 0.6)) | (rng.random(n) < 0.25 * (1.0 - debtors.ability) * (1.0 - willingness))
    consumption = np.clip(np.round(100.0 * (ability_now + rng.normal(0.0, 0.12, n)), 1), 0.0, 100.0)

    declared = debtors.hardship & (rng.random(n) < 0.75)
    hardship = np.array(HARDSHIP_KINDS)[np.where(declared, debtors.hardship_kind, 0)]
    vulnerability = np.array(VULNERABILITY_KINDS)[debtors.vulnerable_kind]

    observed = as_of - rng.integers(0, 61, n).astype("timedelta64[D]")
    columns = {
        "social_insurance_status": status,
        "social_insurance_base": np.where(status == "none", "", base.astype(np.int64).astype(str)),
        "court_enforcement_count": enforcement.astype(str),
        "dishonest_debtor": np.where(dishonest, "true", "false"),
        "consumption_index": np.char.mod("%.1f", consumption),
        "hardship_event": hardship,
        "vulnerability": vulnerability,
    }
    frames = []
    for field, values in columns.items():
        source, basis = EXTERNAL_FIELDS[field]
        frames.append(
            pl.DataFrame(
                {
                    "_debtor": np.arange(n),
                    "source": np.full(n, source),
                    "field": np.full(n, field),
                    "value": values,
                    "as_of_date": observed,
                    "legal_basis": np.full(n, basis),
                }
            )
        )
    external = pl.concat(frames).filter(pl.col("value") != "")
    unlawful = rng.random(external.height) < settings.legal_basis_none_share
    return external.with_columns(
        pl.when(pl.Series(unlawful)).then(pl.lit("none")).otherwise(pl.col("legal_basis")).alias("legal_basis"),
        pl.col("as_of_date").cast(pl.Date),
        borrower_id=pl.Series(state.borrower_ids).gather(external["_debtor"]),
    ).sort("_debtor", maintain_order=True)
