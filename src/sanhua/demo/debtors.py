"""Debtors of a demo book: latent willingness and ability, hardship, vulnerability, demographics.

Willingness and ability are latent values in [0, 1], drawn through a
Gaussian copula with correlation 0.35 (ASSUMPTION). Everything observable in
the generated tables derives from them:

- willingness drives right-party contact, promises made and kept, disputes and
  complaints (inversely), on-time payment before default, voluntary payments
  and settlements after default;
- ability drives income, employment, social-insurance status and base,
  consumption, court enforcement and dishonest-debtor records (inversely), and
  the size of payments.

A hardship debtor (illness, job loss, accident, business failure) keeps the
willingness of the draw but, until the hardship ends, pays with a quarter of
the ability (ASSUMPTION). Region, gender and age are drawn independently of
the latents, so any regional effect on recoveries comes only from the
settings' ``region_bias``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from sanhua.demo.geography import PROVINCES, province_weights
from sanhua.demo.settings import DemoSettings

__all__ = ["Debtors", "HARDSHIP_KINDS", "VULNERABILITY_KINDS", "draw_debtors", "HARDSHIP_ABILITY_FACTOR"]

# Index 0 is "none"; the codes are the `hardship_event` values of the external table.
HARDSHIP_KINDS: tuple[str, ...] = ("none", "illness", "job_loss", "accident", "business_failure")
VULNERABILITY_KINDS: tuple[str, ...] = ("none", "elderly", "serious_illness", "disability")
HARDSHIP_ABILITY_FACTOR = 0.25
_ELDERLY_AGE = 70


@dataclass
class Debtors:
    """Per-debtor draws of one book, as NumPy arrays of equal length.

    Attributes
    ----------
    willingness, ability : float64
        Latent values in [0, 1]; ``ability`` is the long-run value.
    hardship_kind : int64
        Index into :data:`HARDSHIP_KINDS` (0: no hardship).
    hardship_end : int64
        Month after default in which the hardship ends (0 without hardship).
    vulnerable_kind : int64
        Index into :data:`VULNERABILITY_KINDS` (0: not vulnerable).
    lost_contact : bool
        The debtor's own phone is no longer reachable.
    province : int64
        Index into :data:`sanhua.demo.geography.PROVINCES`.
    region_factor : float64
        Multiplier of collection and enforcement cash from ``region_bias``.
    male : bool
    age : int64
        Age in whole years at the as-of date.
    """

    willingness: np.ndarray
    ability: np.ndarray
    hardship_kind: np.ndarray
    hardship_end: np.ndarray
    vulnerable_kind: np.ndarray
    lost_contact: np.ndarray
    province: np.ndarray
    region_factor: np.ndarray
    male: np.ndarray
    age: np.ndarray

    @property
    def size(self) -> int:
        """Number of debtors."""
        return int(self.willingness.size)

    @property
    def hardship(self) -> np.ndarray:
        """Whether each debtor is in a hardship (bool)."""
        return self.hardship_kind > 0

    @property
    def vulnerable(self) -> np.ndarray:
        """Whether each debtor is flagged vulnerable (bool)."""
        return self.vulnerable_kind > 0

    def ability_in_month(self, month: int) -> np.ndarray:
        """Return the ability that pays in month ``month`` after default (reduced during a hardship)."""
        in_hardship = self.hardship & (month <= self.hardship_end)
        return np.where(in_hardship, self.ability * HARDSHIP_ABILITY_FACTOR, self.ability)


def draw_debtors(rng: np.random.Generator, n: int, settings: DemoSettings) -> Debtors:
    """Draw ``n`` debtors with latents, hardship, vulnerability, region and demographics.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of debtors.
    settings : DemoSettings
        Knobs: ``hardship_share``, ``vulnerable_share``, ``lost_contact_share``,
        ``region_bias``.
    """
    z_will = rng.standard_normal(n)
    z_able = 0.35 * z_will + np.sqrt(1 - 0.35**2) * rng.standard_normal(n)
    hardship = rng.random(n) < settings.hardship_share

    # NPL debtors lean unwilling and unable; debtors in hardship defaulted from
    # a shock, so their draws are centred higher (ASSUMPTION).
    willingness = ndtr(np.where(hardship, 0.5, -0.25) + 0.9 * z_will)
    ability = ndtr(np.where(hardship, 0.2, -0.3) + 0.9 * z_able)

    hardship_kind = np.where(hardship, rng.integers(1, len(HARDSHIP_KINDS), size=n), 0)
    hardship_end = np.where(hardship, rng.integers(3, 31, size=n), 0)

    male = rng.random(n) < 0.58
    age = np.clip(np.rint(rng.normal(38.0, 10.0, size=n)), 20, 78).astype(np.int64)
    ill = rng.random(n) < settings.vulnerable_share
    vulnerable_kind = np.where(age >= _ELDERLY_AGE, 1, np.where(ill, rng.integers(2, 4, size=n), 0))
    ability = np.where(vulnerable_kind > 0, ability * 0.6, ability)

    # Lost contact is twice as likely for the least willing as on average.
    lost_probability = np.clip(settings.lost_contact_share * 2.0 * (1.0 - willingness) / 0.58, 0.0, 1.0)
    lost_contact = rng.random(n) < lost_probability

    province = rng.choice(len(PROVINCES), size=n, p=province_weights())
    bias = np.array([settings.region_bias.get(p.name, 1.0) for p in PROVINCES])

    return Debtors(
        willingness=willingness,
        ability=ability,
        hardship_kind=hardship_kind.astype(np.int64),
        hardship_end=hardship_end.astype(np.int64),
        vulnerable_kind=vulnerable_kind.astype(np.int64),
        lost_contact=lost_contact,
        province=province.astype(np.int64),
        region_factor=bias[province],
        male=male,
        age=age,
    )
