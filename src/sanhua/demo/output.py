"""Write the demo portfolio to disk: cn-bank files for history and tape, latent values beside them.

Layout under ``out``::

    data/history/{loans,borrowers,repayments,collection_events,contacts,external,outcomes}.csv
    data/tape/{loans,borrowers,repayments,collection_events,contacts,external}.csv
    data/latent.parquet

The CSV files are GBK-encoded with the cn-bank profile's headers and codes.
``latent.parquet`` contains loan ids and simulated values only (no personal
data). It is for tests and demonstrations and must never feed a model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sanhua.demo.cn_bank import write_cn_bank
from sanhua.demo.portfolio import generate_portfolio
from sanhua.demo.settings import DemoSettings

__all__ = ["DemoPaths", "write_demo"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoPaths:
    """Locations of a written demo portfolio.

    Attributes
    ----------
    root : pathlib.Path
        The ``out`` folder given to :func:`write_demo`.
    history : pathlib.Path
        Folder of the history tables (a HISTORY argument of ``sanhua fit``).
    tape : pathlib.Path
        Folder of the tape tables (a TAPE argument of ``sanhua run``).
    latent : pathlib.Path
        Parquet file of latent values and simulated recoveries per loan.
    history_files, tape_files : list of pathlib.Path
        Every file written, per book.
    """

    root: Path
    history: Path
    tape: Path
    latent: Path
    history_files: list[Path] = field(default_factory=list)
    tape_files: list[Path] = field(default_factory=list)


def write_demo(out: Path, settings: DemoSettings | None = None, *, encoding: str = "gbk") -> DemoPaths:
    """Generate the demo portfolio and write it under ``out/data``.

    Parameters
    ----------
    out : pathlib.Path
        Output folder; ``out/data`` is created or overwritten file by file.
    settings : DemoSettings, optional
        Defaults to ``DemoSettings()``.
    encoding : str
        Encoding of the CSV files (default GBK, as most bank exports).

    Returns
    -------
    DemoPaths
    """
    settings = settings or DemoSettings()
    started = time.perf_counter()
    portfolio = generate_portfolio(settings)

    data = Path(out) / "data"
    history_files = write_cn_bank(portfolio.history, data / "history", encoding=encoding)
    tape_files = write_cn_bank(portfolio.tape, data / "tape", encoding=encoding)
    latent = data / "latent.parquet"
    portfolio.latent.write_parquet(latent)

    logger.info("demo written to %s in %.2f s", data, time.perf_counter() - started)
    return DemoPaths(
        root=Path(out),
        history=data / "history",
        tape=data / "tape",
        latent=latent,
        history_files=history_files,
        tape_files=tape_files,
    )
