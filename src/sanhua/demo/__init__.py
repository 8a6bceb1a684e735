"""Seeded demo portfolio of a Chinese bank's personal NPLs, in canonical tables and cn-bank files.

Entry points:

- :func:`generate_portfolio` builds the history (with monthly outcomes), the
  tape and the latent values behind them, as canonical Polars tables;
- :func:`write_cn_bank` writes canonical tables with the ``cn-bank``
  profile's headers and codes;
- :func:`write_demo` does both under ``out/data`` (the ``sanhua demo`` command);
- :func:`generate_loan_tape` and :func:`write_loan_tape` build large
  single-file loan tapes, optionally with defects, for benchmarks.
"""

from sanhua.demo.cn_bank import write_cn_bank
from sanhua.demo.fast_tape import DEFECT_KINDS, generate_loan_tape, loan_tape_defects, write_loan_tape
from sanhua.demo.output import DemoPaths, write_demo
from sanhua.demo.portfolio import DemoPortfolio, generate_portfolio
from sanhua.demo.settings import DEMO_CAPACITIES, DemoSettings, RecoveryCalibration

__all__ = [
    "DEMO_CAPACITIES",
    "DEFECT_KINDS",
    "DemoPaths",
    "DemoPortfolio",
    "DemoSettings",
    "RecoveryCalibration",
    "generate_loan_tape",
    "generate_portfolio",
    "loan_tape_defects",
    "write_cn_bank",
    "write_demo",
    "write_loan_tape",
]
