"""Pseudonymisation and masking of personal data at ingest.

Personal values never leave the tape stage in clear. Each personal column is
replaced by

- ``<column>_hash``: HMAC-SHA256 of the normalised value under the bank's
  secret key, lower-case hex (64 characters). The same key gives the same hash
  in every table and every run, so borrowers, loans and contacts still join;
  without the key the hash cannot be reversed by trying candidate ID numbers or
  phones, which a plain SHA-256 would allow.
- ``<column>_masked``: a display form that keeps only what a collector needs to
  recognise the value (for example ``110105********1234``), by the bank's
  masking settings.

The HMAC runs once per distinct value with :mod:`hashlib` from precomputed
``ipad``/``opad`` states (RFC 2104), split across the cores for large columns
(:mod:`sanhua.tape.hmac_batch`); :func:`hmac_sha256_hex` is the reference it
is tested against.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import BaseModel, Field

from sanhua.errors import PrivacyError
from sanhua.tape.hmac_batch import hmac_sha256_parallel

__all__ = ["MaskRule", "MaskingSettings", "Pseudonymiser", "hmac_sha256_hex", "KEY_ENV", "DEMO_KEY"]

logger = logging.getLogger(__name__)

KEY_ENV = "SANHUA_PSEUDONYM_KEY"

# Fixed key for the synthetic demo only: its hashes protect nothing.
DEMO_KEY = b"sanhua-demo-key-not-secret-do-not-use-with-real-data"

_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104 "B").


class MaskRule(BaseModel):
    """How one kind of personal value is shown.

    The first ``keep_first`` and last ``keep_last`` characters stay; every
    character between them becomes ``mask_char``. A value too short to keep both
    ends is masked whole.
    """

    keep_first: int = Field(0, ge=0, description="Characters kept at the start.")
    keep_last: int = Field(0, ge=0, description="Characters kept at the end.")
    mask_char: str = Field("*", min_length=1, max_length=1, description="Character that replaces hidden ones.")
    fixed_length: int | None = Field(
        None,
        ge=1,
        description="When set, the hidden part is always this many mask characters, so the display does not reveal "
        "the length of free text.",
    )


class MaskingSettings(BaseModel):
    """Masking patterns per personal kind.

    Defaults follow the display conventions common in Chinese banks' systems
    (ID number first 6 + last 4, card first 6 + last 4, mobile 3 + 4). Banks
    differ: every rule is a setting. ASSUMPTION for name, address, e-mail and
    free text: the defaults are ours, not a published rule.
    """

    id_number: MaskRule = Field(default_factory=lambda: MaskRule(keep_first=6, keep_last=4))
    phone: MaskRule = Field(default_factory=lambda: MaskRule(keep_first=3, keep_last=4))
    card: MaskRule = Field(default_factory=lambda: MaskRule(keep_first=6, keep_last=4))
    name: MaskRule = Field(
        default_factory=lambda: MaskRule(keep_first=1),
        description="Keeps the surname (first character); compound surnames show one character.",
    )
    customer_id: MaskRule = Field(default_factory=lambda: MaskRule(keep_last=4), description="Borrower ids.")
    email: MaskRule = Field(
        default_factory=lambda: MaskRule(keep_first=1),
        description="Applied to the part before '@'; the domain is kept.",
    )
    address: MaskRule = Field(
        default_factory=lambda: MaskRule(keep_first=6, fixed_length=6),
        description="Keeps about province and city.",
    )
    free_text: MaskRule = Field(default_factory=lambda: MaskRule(fixed_length=6), description="Notes, employer, titles.")

    def rule(self, kind: str) -> MaskRule:
        """Return the rule of a personal kind; unknown kinds are masked whole."""
        return getattr(self, kind, None) or self.free_text


def _hex_strings(blob: bytes, count: int) -> pl.Series:
    """Split concatenated 32-byte digests into ``count`` lower-case hex strings."""
    text = blob.hex().encode("ascii")
    offsets = np.arange(0, 64 * count + 1, 64, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))
    return pl.Series("digest", array, dtype=pl.String)


def hmac_sha256_hex(key: bytes, value: str) -> str:
    """Return HMAC-SHA256 of one UTF-8 value, hex: the reference for :meth:`Pseudonymiser.hash`."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


class Pseudonymiser:
    """Keyed hashing and masking of personal values.

    Parameters
    ----------
    key : bytes
        Secret key, at least 16 bytes. Keep it outside the data and the run
        folder; the same key must be used for every run whose hashes are joined.
    masking : MaskingSettings or None
        Display patterns; the defaults when None.
    """

    def __init__(self, key: bytes, masking: MaskingSettings | None = None) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < 16:
            raise PrivacyError(
                f"the pseudonym key must be at least 16 bytes, got {len(key) if isinstance(key, bytes | bytearray) else type(key).__name__}; "
                f"set {KEY_ENV} to a long random string (for example `openssl rand -hex 32`)"
            )
        self._key = bytes(key)
        self.masking = masking or MaskingSettings()
        self.key_id = hashlib.sha256(b"sanhua-key-id:" + hashlib.sha256(self._key).digest()).hexdigest()[:16]
        block_key = hashlib.sha256(self._key).digest() if len(self._key) > _BLOCK else self._key
        block_key = block_key.ljust(_BLOCK, b"\x00")
        self._ipad = bytes(b ^ 0x36 for b in block_key)
        self._opad = bytes(b ^ 0x5C for b in block_key)

    @classmethod
    def from_environment(cls, *, config_key: str | None = None, demo: bool = False) -> Pseudonymiser:
        """Build a pseudonymiser from ``SANHUA_PSEUDONYM_KEY``, a configured key or the demo key.

        Parameters
        ----------
        config_key : str or None
            Key from the configuration file, used when the environment variable
            is not set.
        demo : bool
            Allow the fixed demo key when neither is set (synthetic data only).

        Raises
        ------
        PrivacyError
            No key is set and ``demo`` is false.
        """
        env_key = os.environ.get(KEY_ENV)
        if env_key:
            return cls(env_key.encode("utf-8"))
        if config_key:
            return cls(config_key.encode("utf-8"))
        if demo:
            logger.warning("using the fixed demo pseudonym key: hashes protect nothing; set %s for real data", KEY_ENV)
            return cls(DEMO_KEY)
        raise PrivacyError(
            f"no pseudonym key: set the environment variable {KEY_ENV} to a long random secret "
            "(for example `export SANHUA_PSEUDONYM_KEY=$(openssl rand -hex 32)`) or `pseudonym_key` in the "
            "configuration file; use the same key for every run whose results are joined"
        )

    def hash(self, values: pl.Series) -> pl.Series:
        """Hash values with HMAC-SHA256 under the key.

        Parameters
        ----------
        values : pl.Series
            String values (other types are cast to string). Nulls stay null.

        Returns
        -------
        pl.Series
            Lower-case hex digests, same length and order as ``values``, named
            like ``values``.
        """
        text = values.cast(pl.String)
        present = text.drop_nulls()
        distinct = present.unique()
        if distinct.len() == present.len() and text.null_count() * 10 <= text.len():
            # No value repeats and nulls are few, so hash the column in place
            # (nulls as "") and skip the lookup join.
            digests = self._digest(text.fill_null("")).get_column("digest")
            frame = pl.DataFrame({"value": text, "digest": digests})
            return frame.select(pl.when(pl.col("value").is_not_null()).then(pl.col("digest"))).to_series().alias(values.name)
        lookup = self._digest(distinct)
        joined = text.to_frame("value").join(lookup, on="value", how="left", maintain_order="left", nulls_equal=False)
        return joined["digest"].alias(values.name)

    def _digest(self, distinct: pl.Series) -> pl.DataFrame:
        """Return a ``value``/``digest`` frame: HMAC-SHA256 (RFC 2104) of each distinct value."""
        text = distinct.cast(pl.String)
        blob = hmac_sha256_parallel(self._ipad, self._opad, text.cast(pl.Binary).to_list())
        return pl.DataFrame({"value": text, "digest": _hex_strings(blob, text.len())})

    def mask(self, values: pl.Series, kind: str) -> pl.Series:
        """Mask values for display by the rule of their personal kind.

        Parameters
        ----------
        values : pl.Series
            String values; nulls stay null.
        kind : str
            Personal kind: ``id_number``, ``phone``, ``card``, ``name``,
            ``customer_id``, ``email``, ``address`` or ``free_text``.
        """
        frame = values.cast(pl.String).to_frame("v")
        return frame.select(mask_expr(pl.col("v"), self.masking, kind).alias(values.name)).to_series()


def mask_expr(expr: pl.Expr, masking: MaskingSettings, kind: str) -> pl.Expr:
    """Return a Polars expression that masks ``expr`` by the rule of ``kind``."""
    if kind == "email":
        rule = masking.email
        local = expr.str.extract(r"^([^@]*)@", 1)
        domain = expr.str.extract(r"(@.*)$", 1)
        masked_local = _mask_rule(local, rule)
        return pl.when(local.is_not_null()).then(masked_local + domain).otherwise(_mask_rule(expr, rule))
    return _mask_rule(expr, masking.rule(kind))


def _mask_rule(expr: pl.Expr, rule: MaskRule) -> pl.Expr:
    length = expr.str.len_chars()
    keep = rule.keep_first + rule.keep_last
    star = rule.mask_char
    if rule.fixed_length is not None:
        hidden = pl.lit(star * rule.fixed_length)
        whole = hidden
    else:
        hidden = pl.lit("").str.pad_end(length - keep, star)
        whole = pl.lit("").str.pad_end(length, star)
    head = expr.str.slice(0, rule.keep_first)
    tail = expr.str.slice(length - rule.keep_last, rule.keep_last) if rule.keep_last else pl.lit("")
    return (
        pl.when(expr.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(length <= keep)
        .then(whole)
        .otherwise(pl.concat_str([head, hidden, tail]))
    )
