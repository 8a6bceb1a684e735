"""Shared demo portfolios: the default one (as `sanhua demo` writes it) and a small one."""

from __future__ import annotations

import pytest

from sanhua.demo import DemoPortfolio, DemoSettings, generate_portfolio

SMALL = DemoSettings(n_history_loans=1_500, n_tape_loans=600)


@pytest.fixture(scope="session")
def demo() -> DemoPortfolio:
    """The default demo portfolio (20,000 history and 10,000 tape loans)."""
    return generate_portfolio(DemoSettings())


@pytest.fixture(scope="session")
def small() -> DemoPortfolio:
    """A small portfolio for tests of files and determinism."""
    return generate_portfolio(SMALL)
