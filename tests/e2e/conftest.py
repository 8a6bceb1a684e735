"""Fixtures of the end-to-end tests: isolated SANHUA_HOME, a test key, the demo run and the real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sanhua.cli import app

TEST_KEY = "e2e-test-key-not-secret-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]


def shared_data() -> Path:
    """Locate ../shared/data beside the repository (or SANHUA_SHARED_DATA)."""
    override = os.environ.get("SANHUA_SHARED_DATA")
    return Path(override) if override else (REPO.parent / "shared" / "data").resolve()


LENDINGCLUB = shared_data() / "lendingclub" / "loans_issued_2007_2010.csv.gz"
needs_lendingclub = pytest.mark.skipif(
    not LENDINGCLUB.is_file(), reason=f"real LendingClub data not found at {LENDINGCLUB} (set SANHUA_SHARED_DATA)"
)


@pytest.fixture(scope="session")
def session_env(tmp_path_factory):
    """Environment of every CLI call: its own catalogue folder and pseudonym key."""
    home = tmp_path_factory.mktemp("sanhua-home")
    env = {"SANHUA_HOME": str(home), "SANHUA_PSEUDONYM_KEY": TEST_KEY, "SANHUA_LANG": "zh-CN"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def invoke(args: list[str]):
    """Run the CLI in-process and return the result (stdout and stderr kept apart)."""
    runner = CliRunner()
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def demo_run(session_env, tmp_path_factory):
    """Generate the demo portfolio, fit and run it once for the session."""
    out = tmp_path_factory.mktemp("demo")
    result = invoke(["demo", "--out", out])
    assert result.exit_code == 0, result.stderr
    return out, result
