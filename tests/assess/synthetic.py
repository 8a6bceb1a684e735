"""A small synthetic tape in canonical form for assessment tests.

Latent willingness and ability per debtor drive the observable features
(payment regularity, contact rate, income) and the outcomes, so a working
model must rank the latents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl


@dataclass
class _Profile:
    features: dict = field(default_factory=lambda: {"willingness": ("regularity",), "ability": ("income_shock",)})


@dataclass
class SyntheticTape:
    """Duck-typed stand-in for ``sanhua.tape.load.Tape`` with the attributes features read."""

    tables: dict[str, pl.DataFrame]
    feature_columns: list[str] = field(default_factory=lambda: ["regularity", "income_shock"])
    profile: _Profile = field(default_factory=_Profile)

    @property
    def loans(self) -> pl.DataFrame:
        return self.tables["loans"]

    def table(self, name: str) -> pl.DataFrame | None:
        return self.tables.get(name)


def make_tape(
    n: int = 3000, seed: int = 7, as_of: date = date(2024, 6, 30), nothing_recovered: bool = False
) -> tuple[SyntheticTape, pl.DataFrame]:
    """Return a tape with lifetime outcomes and the latent values per loan.

    With ``nothing_recovered``, debtors who did not engage and whose ability
    is below 0.45 recover nothing (about a third of the loans), so that the
    share with any recovery is far from 0 and 1.
    """
    rng = np.random.default_rng(seed)
    willingness = rng.beta(2, 2, n)
    ability = rng.beta(2, 2, n)
    ids = [f"L{i:06d}" for i in range(n)]
    borrowers = [f"B{i:06d}" for i in range(n)]
    ead = rng.lognormal(9, 0.6, n)
    origination = [as_of - timedelta(days=int(d)) for d in rng.integers(400, 1500, n)]
    as_of_dates = [as_of - timedelta(days=int(d)) for d in rng.integers(0, 700, n)]

    loans = pl.DataFrame(
        {
            "loan_id": ids,
            "borrower_id_hash": borrowers,
            "currency": ["CNY"] * n,
            "product": rng.choice(["credit_card", "consumer_loan"], n).tolist(),
            "origination_date": origination,
            "as_of_date": as_of_dates,
            "principal_original": ead * 1.3,
            "principal_outstanding": ead,
            "exposure_at_default": ead,
            "interest_rate": rng.uniform(0.05, 0.2, n),
            "installment": ead / 24,
            "grade": rng.choice(["A", "B", "C"], n).tolist(),
            "region": rng.choice(["北京", "湖北"], n).tolist(),
            "regularity": willingness + rng.normal(0, 0.15, n),
            "income_shock": -ability + rng.normal(0, 0.15, n),
        }
    )
    borrowers_frame = pl.DataFrame(
        {
            "borrower_id_hash": borrowers,
            "income_annual": np.exp(10 + 1.2 * ability + rng.normal(0, 0.2, n)),
            "gender": rng.choice(["male", "female"], n).tolist(),
            "age": rng.integers(22, 65, n),
        }
    )
    engaged = rng.random(n) < willingness
    rate = np.where(engaged, 0.4 * ability + 0.05, 0.25 * ability) * rng.uniform(0.7, 1.3, n)
    if nothing_recovered:
        rate = np.where(~engaged & (ability < 0.45), 0.0, rate)
    outcomes = pl.DataFrame(
        {
            "loan_id": ids,
            "month": pl.Series([None] * n, dtype=pl.Int32),
            "amount": rate * ead,
            "kind": np.where(engaged, "voluntary", "recovery").tolist(),
        }
    )
    latent = pl.DataFrame({"loan_id": ids, "willingness_latent": willingness, "ability_latent": ability})
    return SyntheticTape({"loans": loans, "borrowers": borrowers_frame, "outcomes": outcomes}), latent
