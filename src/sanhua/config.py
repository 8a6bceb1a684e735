"""Settings of a run, read from an optional TOML file (``--config bank.toml``).

Every section is a pydantic model owned by its stage, with documented
defaults; this module only composes them and reads the file. Unknown keys are
rejected so that a misspelt setting never passes silently.

Example ``bank.toml``::

    [privacy]
    pseudonym_key = "..."          # prefer the SANHUA_PSEUDONYM_KEY environment variable

    [segment]
    willing_high = 0.6

    [strategy]
    discount_rate = 0.08

    [fairness]
    mitigation = "threshold"       # apply the per-group thresholds to the plan

    [monitor]
    psi_act = 0.25
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from sanhua.assess.backtest import BacktestSettings
from sanhua.assess.fairness import FairnessSettings
from sanhua.assess.settings import AssessSettings
from sanhua.errors import ConfigError
from sanhua.governance.monitor import MonitorSettings
from sanhua.securitize.settings import SecuritizeSettings
from sanhua.segment.rules import SegmentSettings
from sanhua.strategy.settings import StrategySettings
from sanhua.tape.privacy import MaskingSettings
from sanhua.value.curves import CurveSettings
from sanhua.value.settings import ValuationSettings


class PrivacySettings(BaseModel):
    """Pseudonymisation key and masking patterns."""

    model_config = ConfigDict(extra="forbid")

    pseudonym_key: SecretStr | None = Field(
        None,
        description="Key of the keyed hash that pseudonymises personal data. SANHUA_PSEUDONYM_KEY takes precedence. Never logged or written to run.json.",
    )
    masking: MaskingSettings = Field(default_factory=MaskingSettings)


class Settings(BaseModel):
    """All settings of a fit or run."""

    model_config = ConfigDict(extra="forbid")

    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    assess: AssessSettings = Field(default_factory=AssessSettings)
    backtest: BacktestSettings = Field(default_factory=BacktestSettings)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    curve: CurveSettings = Field(default_factory=CurveSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    fairness: FairnessSettings = Field(default_factory=FairnessSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    valuation: ValuationSettings = Field(default_factory=ValuationSettings)
    securitize: SecuritizeSettings = Field(default_factory=SecuritizeSettings)

    def public_dump(self) -> dict:
        """Return the settings as JSON-ready data without the pseudonym key."""
        data = self.model_dump(mode="json")
        data["privacy"]["pseudonym_key"] = "(set)" if self.privacy.pseudonym_key is not None else None
        return data


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from a TOML file, or return the defaults when ``path`` is None.

    Raises
    ------
    ConfigError
        When the file is missing, is not TOML, or holds an unknown key or an
        invalid value; the message names the setting and what is allowed.
    """
    if path is None:
        return Settings()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"configuration file {path} not found; give the path of a TOML file with --config")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid UTF-8 TOML: {exc}") from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (received {err.get('input')!r})" for err in exc.errors()
        )
        raise ConfigError(f"{path}: invalid settings: {problems}") from exc
