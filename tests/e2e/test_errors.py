"""End-to-end: bad invocations fail with exit code 2 and a message that names the problem."""

from __future__ import annotations

from .conftest import invoke


def test_missing_tape_names_the_file(session_env, tmp_path):
    missing = tmp_path / "nope.csv"
    result = invoke(["run", missing, "--profile", "cn-bank", "--history", tmp_path, "--out", tmp_path / "run"])
    assert result.exit_code == 2
    assert "nope.csv" in result.stderr


def test_model_and_history_together_rejected(session_env, tmp_path):
    result = invoke(["run", tmp_path, "--profile", "cn-bank", "--model", tmp_path, "--history", tmp_path, "--out", tmp_path / "r"])
    assert result.exit_code == 2
    assert "--model" in result.stderr


def test_neither_model_nor_history_rejected(session_env, tmp_path):
    result = invoke(["run", tmp_path, "--profile", "cn-bank", "--out", tmp_path / "r"])
    assert result.exit_code == 2


def test_unknown_profile_lists_shipped_ones(session_env, tmp_path):
    tape = tmp_path / "loans.csv"
    tape.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke(["fit", tape, "--profile", "no-such-profile", "--out", tmp_path / "m"])
    assert result.exit_code == 2
    assert "cn-bank" in result.stderr
    assert "lendingclub" in result.stderr


def test_bad_as_of_date_rejected(session_env, tmp_path):
    tape = tmp_path / "loans.csv"
    tape.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke(["fit", tape, "--profile", "cn-bank", "--out", tmp_path / "m", "--as-of", "30/06/2024"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def test_english_messages(session_env, tmp_path):
    result = invoke(["run", tmp_path / "nope.csv", "--profile", "cn-bank", "--history", tmp_path, "--out", tmp_path / "r", "--lang", "en"])
    assert result.exit_code == 2
    assert "error" in result.stderr.lower()


def test_unknown_language_rejected(session_env):
    result = invoke(["runs", "list", "--lang", "fr"])
    assert result.exit_code == 2
    assert "zh-CN" in result.stderr
