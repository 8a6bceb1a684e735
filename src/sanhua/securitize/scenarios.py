"""Stress scenarios: one row of stress parameters per scenario, held as NumPy arrays of shape (scenarios,).

Parameters
----------
recovery_haircut
    Fraction cut from recoveries (projected pools: from every collection). 0 is the base case.
delay_months
    Whole months every collection arrives later.
redefault_multiple
    Multiple of the pool's re-default rate (1 is the base case).
prepayment_multiple
    Multiple of the pool's prepayment rate (1 is the base case). Faster prepayment is not
    always harsher: it shortens the deal and cuts interest collected.
rate_shift
    Annual rate added to the coupon of every floating class.
senior_share
    Senior classes' share of the issue for this scenario; NaN keeps the deal's own sizes.
    Sizing uses it to test many structures in one engine run.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl

from sanhua.errors import ConfigError

__all__ = ["PARAMETERS", "Scenarios"]

PARAMETERS: Final[tuple[str, ...]] = (
    "recovery_haircut",
    "delay_months",
    "redefault_multiple",
    "prepayment_multiple",
    "rate_shift",
    "senior_share",
)
"""Stress parameters in column order."""

_DEFAULTS: Final[dict[str, float]] = {
    "recovery_haircut": 0.0,
    "delay_months": 0.0,
    "redefault_multiple": 1.0,
    "prepayment_multiple": 1.0,
    "rate_shift": 0.0,
    "senior_share": float("nan"),
}

_BOUNDS: Final[dict[str, tuple[float, float]]] = {
    "recovery_haircut": (0.0, 1.0),
    "delay_months": (0.0, 240.0),
    "redefault_multiple": (0.0, 1000.0),
    "prepayment_multiple": (0.0, 1000.0),
    "rate_shift": (-0.5, 0.5),
    "senior_share": (0.0, 1.0),
}


@dataclass(frozen=True)
class Scenarios:
    """A set of stress scenarios; every field is a float64 array of shape (scenarios,)."""

    recovery_haircut: np.ndarray
    delay_months: np.ndarray
    redefault_multiple: np.ndarray
    prepayment_multiple: np.ndarray
    rate_shift: np.ndarray
    senior_share: np.ndarray

    def __post_init__(self) -> None:
        sizes = {len(np.atleast_1d(getattr(self, name))) for name in PARAMETERS}
        if len(sizes) != 1:
            raise ConfigError(f"Scenario parameters have different lengths {sorted(sizes)}; give one value per scenario for each.")

        for name in PARAMETERS:
            values = np.asarray(getattr(self, name), dtype=np.float64).reshape(-1)
            low, high = _BOUNDS[name]
            checked = values[~np.isnan(values)] if name == "senior_share" else values
            if name != "senior_share" and np.isnan(values).any():
                raise ConfigError(f"Scenario parameter {name} contains NaN; give a number for every scenario.")
            bad = checked[(checked < low) | (checked > high)]
            if bad.size:
                raise ConfigError(f"Scenario parameter {name} = {bad[0]!r} is outside [{low}, {high}]. Use a value in that range.")
            if name == "delay_months" and not np.all(values == np.round(values)):
                raise ConfigError("Scenario parameter delay_months must be whole months.")
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return int(self.recovery_haircut.shape[0])

    @classmethod
    def from_values(cls, n: int = 1, **values: float | Sequence[float] | np.ndarray) -> Scenarios:
        """Build ``n`` scenarios; each parameter is a scalar (repeated) or an array of length ``n``.

        Raises
        ------
        ConfigError
            An unknown parameter name or a value out of range.
        """
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise ConfigError(f"Unknown stress parameter(s) {unknown}. Allowed: {list(PARAMETERS)}.")
        columns = {}
        for name in PARAMETERS:
            value = values.get(name, _DEFAULTS[name])
            array = np.asarray(value, dtype=np.float64).reshape(-1)
            columns[name] = np.full(n, array[0]) if array.size == 1 else array
        return cls(**columns)

    @classmethod
    def base(cls) -> Scenarios:
        """Return the single unstressed scenario."""
        return cls.from_values(1)

    @classmethod
    def grid(cls, axes: Mapping[str, Sequence[float]], **fixed: float) -> Scenarios:
        """Build the Cartesian product of ``axes`` (first axis varies slowest), other parameters at ``fixed`` or the base case."""
        names = list(axes)
        rows = list(itertools.product(*(list(axes[name]) for name in names)))
        if not rows:
            raise ConfigError("The stress grid is empty; give at least one value per axis.")
        values: dict[str, object] = dict(fixed)
        for index, name in enumerate(names):
            values[name] = np.array([row[index] for row in rows], dtype=np.float64)
        return cls.from_values(len(rows), **values)  # type: ignore[arg-type]

    @classmethod
    def monte_carlo(
        cls,
        n: int,
        seed: int,
        *,
        recovery_haircut: float = 0.0,
        haircut_sd: float = 0.1,
        delay_months: float = 0.0,
        delay_max_extra: int = 3,
        redefault_multiple: float = 1.0,
        redefault_sd: float = 0.25,
        rate_shift: float = 0.0,
    ) -> Scenarios:
        """Draw ``n`` scenarios around a stress point (seeded).

        The haircut is the point's haircut plus a normal draw with sd ``haircut_sd``, clipped to
        [0, 1]; the delay adds a uniform whole number of months in [0, ``delay_max_extra``]; the
        re-default multiple is the point's multiple times a log-normal factor with log-sd
        ``redefault_sd`` and mean 1.
        """
        rng = np.random.default_rng(seed)
        haircut = np.clip(recovery_haircut + rng.normal(0.0, haircut_sd, n), 0.0, 1.0)
        delay = delay_months + rng.integers(0, delay_max_extra + 1, n)
        redefault = redefault_multiple * np.exp(rng.normal(-0.5 * redefault_sd**2, redefault_sd, n))
        return cls.from_values(n, recovery_haircut=haircut, delay_months=delay, redefault_multiple=redefault, rate_shift=rate_shift)

    @classmethod
    def concat(cls, parts: Sequence[Scenarios]) -> Scenarios:
        """Stack scenario sets in order."""
        return cls(**{name: np.concatenate([getattr(part, name) for part in parts]) for name in PARAMETERS})

    def take(self, index: np.ndarray | slice) -> Scenarios:
        """Return the scenarios at ``index``."""
        return Scenarios(**{name: getattr(self, name)[index] for name in PARAMETERS})

    def to_frame(self) -> pl.DataFrame:
        """Return one row per scenario with a ``scenario`` index column."""
        frame = pl.DataFrame({name: getattr(self, name) for name in PARAMETERS})
        return frame.with_row_index("scenario")

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> Scenarios:
        """Build scenarios from a frame with any subset of the parameter columns."""
        values = {name: frame[name].cast(pl.Float64).to_numpy() for name in PARAMETERS if name in frame.columns}
        return cls.from_values(frame.height, **values)

