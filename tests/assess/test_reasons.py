"""Reason codes: ranking and shown values match a plain per-row computation."""

from __future__ import annotations

import numpy as np
import polars as pl

from sanhua.assess.reasons import _strongest, reason_codes


def test_strongest_matches_stable_argsort():
    rng = np.random.default_rng(3)
    matrix = rng.integers(-3, 4, size=(2000, 9)).astype(float)  # many ties
    matrix[rng.random(matrix.shape) < 0.05] = np.nan
    expected = np.argsort(-np.abs(matrix), axis=1, kind="stable")[:, :4]
    picks = np.column_stack(_strongest(matrix, 4))
    assert np.array_equal(picks, expected)


def test_reason_texts_per_row():
    rng = np.random.default_rng(4)
    n = 500
    contributions = {"willingness": rng.normal(size=(n, 2)), "ability": rng.normal(size=(n, 1))}
    features = {"willingness": ["dpd", "grade"], "ability": ["income_annual"]}
    dpd = [None if i % 7 == 0 else float(i) / 3 for i in range(n)]
    grades = [["A", "B", None][i % 3] for i in range(n)]
    values = {
        "willingness": pl.DataFrame({"dpd": dpd, "grade": grades}, schema={"dpd": pl.Float64, "grade": pl.Utf8}),
        "ability": pl.DataFrame({"income_annual": rng.normal(size=n) * 1e5}),
    }
    zh, en = reason_codes(contributions, features, values, n=2)

    matrix = np.hstack([contributions["willingness"], contributions["ability"]])
    labels = [("willingness", "days past due", dpd), ("willingness", "internal grade", grades), ("ability", "annual income", values["ability"]["income_annual"].to_list())]
    for row in (0, 1, 7, 250, n - 1):
        order = np.argsort(-np.abs(matrix[row]), kind="stable")[:2]
        parts = []
        for col in order:
            model, name, column = labels[col]
            value = column[row]
            text = "NA"
            if isinstance(value, float):
                text = f"{round(value, 2)}"
            elif value is not None:
                text = value
            sign = "↑" if matrix[row, col] >= 0 else "↓"
            parts.append(f"{model}{sign} {name}={text}")
        assert en[row] == "; ".join(parts)
    assert zh.len() == n
