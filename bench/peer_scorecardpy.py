"""Fit scorecardpy's documented default workflow on files and write its test predictions.

scorecardpy 0.1.9.7 fails under pandas 3, so it runs in its own environment
(``bench/.venv-scorecardpy``: pandas < 2.1, numpy < 2), which ``make bench-peers`` makes.
``bench/peers.py`` writes the split as Parquet files, runs this script with that
environment's Python and reads the predictions back.

Usage::

    bench/.venv-scorecardpy/bin/python bench/peer_scorecardpy.py TRAIN.parquet TEST.parquet OUT.json

``TRAIN`` has the features and a ``target`` column (0/1); ``OUT`` receives
``{"p": [...], "fit_seconds": s}``, the predicted probability of each test row and the
seconds spent binning, fitting and predicting.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import pandas as pd
import scorecardpy as sc
from sklearn.linear_model import LogisticRegression


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit("usage: peer_scorecardpy.py TRAIN.parquet TEST.parquet OUT.json")
    warnings.filterwarnings("ignore")
    train = pd.read_parquet(sys.argv[1])
    test = pd.read_parquet(sys.argv[2])

    started = time.perf_counter()
    bins = sc.woebin(train, y="target", print_info=False)
    train_woe = sc.woebin_ply(train, bins, print_info=False)
    columns = [c for c in train_woe.columns if c != "target"]
    model = LogisticRegression(max_iter=1000).fit(train_woe[columns], train["target"])
    test_woe = sc.woebin_ply(test, bins, print_info=False)
    # woebin_ply leaves NaN for a test category that training never saw (LendingClub's 2010 purposes);
    # such a value gets WoE 0 (no evidence either way).
    p = model.predict_proba(test_woe[columns].fillna(0.0))[:, 1]
    seconds = time.perf_counter() - started

    with open(sys.argv[3], "w", encoding="utf-8") as handle:
        json.dump({"p": p.tolist(), "fit_seconds": round(seconds, 2)}, handle)


if __name__ == "__main__":
    main()
