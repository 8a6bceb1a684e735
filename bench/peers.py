"""Champion and challenger against peer scorecard libraries on the same splits and features.

Models, each with its library's documented default workflow:

- ``sanhua champion``: whichever of the two below has the higher AUC on the last 20 % of the
  training rows, refit on all of them, as ``sanhua fit`` chooses;
- ``sanhua LightGBM``: sanhua's default classifier parameters, trees chosen by early stopping on
  the last 20 % of the training rows, then refit on all of them;
- ``sanhua WoE scorecard``: :class:`sanhua.assess.scorecard.WoEScorecard` defaults;
- ``optbinning``: ``BinningProcess`` + logistic regression + ``Scorecard``, all defaults;
- ``toad``: ``Combiner`` (chi-square merge, 5 % minimum bin) + ``WOETransformer`` + logistic regression;
- ``scorecardpy``: ``woebin`` + ``woebin_ply`` + logistic regression.

Data sets (every model sees the same features; protected attributes are excluded):

- LendingClub 2007-2010, charged-off loans: target "recovery rate above the median of the
  charged-off loans", out of time: trained on loans issued before 2010, tested on 2010;
- Taiwan credit-card clients (80 % development file): target "default next month", a 70/30 split
  with seed 20261204. ``SEX``, ``AGE``, ``MARRIAGE`` and ``EDUCATION`` are not features. The
  undocumented ``PAY_*`` codes -2 (no consumption) and 0 (revolving credit, minimum paid) are read,
  with -1 (paid duly), as "not late" and set to 0, so each ``PAY_*`` is months late (0 to 9).

Peers run in their own virtual environment, ``bench/.venv-peers``, made by ``make bench-peers``
(their pins are kept away from the project's environment). scorecardpy fails under pandas 3, so it
runs in a second one, ``bench/.venv-scorecardpy`` (pandas < 2.1, numpy < 2), through Parquet files
and ``bench/peer_scorecardpy.py``. Usage::

    bench/.venv-peers/bin/python bench/peers.py            # both data sets
    bench/.venv-peers/bin/python bench/peers.py --data taiwan

Figures: Markdown on stdout and ``bench/output/peers.json``; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SANHUA_SHARED_DATA", ROOT.parent.parent / "shared" / "data"))
SEED = 20261204

LC_NUMERIC = [
    "loan_amnt", "funded_amnt_inv", "int_rate", "installment", "annual_inc", "dti", "delinq_2yrs", "inq_last_6mths",
    "mths_since_last_delinq", "open_acc", "pub_rec", "revol_bal", "revol_util", "total_acc", "total_rec_int",
    "total_rec_late_fee", "last_pymnt_amnt", "ead", "share_repaid", "months_on_book",
]
LC_CATEGORICAL = ["grade", "home_ownership", "verification_status", "purpose"]


def lendingclub() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray, list[str]]:
    """Return train and test frames of charged-off LendingClub loans with the recovery target."""
    raw = pl.read_csv(DATA / "lendingclub" / "loans_issued_2007_2010.csv.gz", infer_schema_length=0)
    raw = raw.filter(pl.col("loan_status").str.contains("Charged Off"))
    number = {c: pl.col(c).cast(pl.Float64) for c in LC_NUMERIC if c in raw.columns}
    frame = raw.with_columns(**number).with_columns(
        ead=pl.col("funded_amnt").cast(pl.Float64) - pl.col("total_rec_prncp").cast(pl.Float64),
        share_repaid=pl.col("total_rec_prncp").cast(pl.Float64) / pl.col("funded_amnt").cast(pl.Float64),
        months_on_book=(
            (pl.coalesce(pl.col("last_pymnt_d"), pl.col("issue_d")).str.to_date() - pl.col("issue_d").str.to_date()).dt.total_days() / 30.4375
        ),
    )
    rate = (pl.col("recoveries").cast(pl.Float64) / pl.col("ead")).clip(0, 1.5)
    frame = frame.filter(pl.col("ead") > 0).with_columns(rate.alias("rate"))
    median = frame["rate"].median()
    frame = frame.with_columns((pl.col("rate") > median).cast(pl.Int8).alias("target"))

    features = LC_NUMERIC + LC_CATEGORICAL
    train = frame.filter(pl.col("issue_d") < "2010-01-01").sort("issue_d")
    test = frame.filter(pl.col("issue_d") >= "2010-01-01")
    return (
        train.select(features).to_pandas(), train["target"].to_numpy(),
        test.select(features).to_pandas(), test["target"].to_numpy(), LC_CATEGORICAL,
    )


def taiwan() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray, list[str]]:
    """Return a seeded 70/30 split of the Taiwan card clients with the default target."""
    raw = pl.read_csv(DATA / "taiwan_credit_card" / "clients_dev.csv")
    pay = [c for c in raw.columns if c.startswith("PAY_") and not c.startswith("PAY_AMT")]
    features = ["LIMIT_BAL", *pay, *[c for c in raw.columns if c.startswith("BILL_AMT") or c.startswith("PAY_AMT")]]
    frame = raw.with_columns([pl.col(c).cast(pl.Int64).clip(lower_bound=0).alias(c) for c in pay])
    x = frame.select(features).to_pandas().astype(float)
    y = frame["default.payment.next.month"].to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=SEED, stratify=y)
    return x_train, y_train, x_test, y_test, []


def _ks(y: np.ndarray, p: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def fit_lightgbm(x_train, y_train, x_test, categorical):
    import lightgbm as lgb

    from sanhua.assess.model import _lgb_params
    from sanhua.assess.settings import AssessSettings

    settings = AssessSettings()
    params = _lgb_params(settings, "binary")
    encoded = []
    for frame in (x_train, x_test):
        frame = frame.copy()
        for c in categorical:
            frame[c] = pd.Categorical(frame[c], categories=sorted(x_train[c].dropna().unique()))
        encoded.append(frame)
    train, test = encoded
    cut = int(len(train) * 0.8)
    stopper = lgb.train(
        params,
        lgb.Dataset(train.iloc[:cut], y_train[:cut]),
        num_boost_round=settings.booster.max_trees,
        valid_sets=[lgb.Dataset(train.iloc[cut:], y_train[cut:])],
        callbacks=[lgb.early_stopping(settings.booster.early_stopping_rounds, verbose=False)],
    )
    n_trees = max(int(stopper.best_iteration or settings.booster.max_trees), 10)
    final = lgb.train(params, lgb.Dataset(train, y_train), num_boost_round=n_trees)
    return final.predict(test)


def fit_sanhua_scorecard(x_train, y_train, x_test, categorical):
    from sanhua.assess.scorecard import WoEScorecard

    features = list(x_train.columns)
    card = WoEScorecard().fit(pl.from_pandas(x_train), features, y_train, categorical)
    return card.predict_proba(pl.from_pandas(x_test))


def fit_optbinning(x_train, y_train, x_test, categorical):
    from optbinning import BinningProcess, Scorecard

    process = BinningProcess(variable_names=list(x_train.columns), categorical_variables=categorical)
    card = Scorecard(binning_process=process, estimator=LogisticRegression(max_iter=1000))
    card.fit(x_train, y_train)
    return card.predict_proba(x_test)[:, 1]


def fit_toad(x_train, y_train, x_test, categorical):
    import toad

    train = x_train.copy()
    train["target"] = y_train
    combiner = toad.transform.Combiner()
    # Missing values get their own bin; without it toad 0.1.7's ChiMerge panics on NaN.
    combiner.fit(train, y="target", method="chi", min_samples=0.05, empty_separate=True)
    woe = toad.transform.WOETransformer()
    train_woe = woe.fit_transform(combiner.transform(train), train["target"], exclude=["target"])
    model = LogisticRegression(max_iter=1000).fit(train_woe.drop(columns="target"), y_train)
    test_woe = woe.transform(combiner.transform(x_test))
    return model.predict_proba(test_woe[train_woe.drop(columns="target").columns])[:, 1]


def fit_scorecardpy(x_train, y_train, x_test, categorical):
    """Run scorecardpy in its own environment (it fails under pandas 3) through Parquet files; return (p, fit seconds)."""
    python = Path(os.environ.get("SANHUA_SCORECARDPY_PYTHON", ROOT / ".venv-scorecardpy" / "bin" / "python"))
    if not python.is_file():
        raise RuntimeError(f"no scorecardpy environment at {python}: run `make bench-peers`, or set SANHUA_SCORECARDPY_PYTHON")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        train = x_train.copy()
        train["target"] = y_train
        train.to_parquet(folder / "train.parquet")
        x_test.to_parquet(folder / "test.parquet")
        subprocess.run(
            [str(python), str(ROOT / "peer_scorecardpy.py"), str(folder / "train.parquet"), str(folder / "test.parquet"), str(folder / "out.json")],
            check=True,
        )
        result = json.loads((folder / "out.json").read_text(encoding="utf-8"))
    return np.asarray(result["p"]), result["fit_seconds"]


def fit_sanhua_champion(x_train, y_train, x_test, categorical):
    """Pick the booster or the scorecard by AUC on the last 20 % of the training rows, as `sanhua fit` does, then refit."""
    cut = int(len(x_train) * 0.8)
    head, tail = x_train.iloc[:cut], x_train.iloc[cut:]
    booster_auc = roc_auc_score(y_train[cut:], fit_lightgbm(head, y_train[:cut], tail, categorical))
    card_auc = roc_auc_score(y_train[cut:], fit_sanhua_scorecard(head, y_train[:cut], tail, categorical))
    chosen = fit_sanhua_scorecard if card_auc > booster_auc else fit_lightgbm
    print(f"champion on validation: {chosen.__name__} (booster {booster_auc:.4f}, scorecard {card_auc:.4f})", file=sys.stderr)
    return chosen(x_train, y_train, x_test, categorical)


MODELS = {
    "sanhua champion (chosen on validation)": fit_sanhua_champion,
    "sanhua LightGBM": fit_lightgbm,
    "sanhua WoE scorecard": fit_sanhua_scorecard,
    "optbinning": fit_optbinning,
    "toad": fit_toad,
    "scorecardpy": fit_scorecardpy,
}
DATASETS = {"lendingclub": lendingclub, "taiwan": taiwan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    results = []
    for name in args.data:
        x_train, y_train, x_test, y_test, categorical = DATASETS[name]()
        for model, fit in MODELS.items():
            started = time.perf_counter()
            try:
                predicted = fit(x_train, y_train, x_test, categorical)
                # A peer run in another environment reports its own fit time, without the interpreter's start.
                predicted, own_seconds = predicted if isinstance(predicted, tuple) else (predicted, None)
                p = np.clip(np.asarray(predicted, dtype=float), 1e-9, 1 - 1e-9)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - a failing peer (toad raises Rust panics) is reported, not hidden
                results.append({"data": name, "model": model, "error": f"{type(exc).__name__}: {exc}"})
                print(f"{name} {model}: failed: {exc}", file=sys.stderr)
                continue
            seconds = own_seconds if own_seconds is not None else time.perf_counter() - started
            row = {
                "data": name, "model": model, "n_train": len(y_train), "n_test": len(y_test),
                "auc": float(roc_auc_score(y_test, p)), "ks": _ks(y_test, p), "brier": float(brier_score_loss(y_test, p)),
                "fit_seconds": round(seconds, 2),
            }
            results.append(row)
            print(json.dumps(row), file=sys.stderr)

    out = ROOT / "output"
    out.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    (out / "peers.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2), encoding="utf-8")
    print("| data | model | train / test | AUC | KS | Brier | fit + predict s |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in results:
        if "error" in r:
            print(f"| {r['data']} | {r['model']} | | failed: {r['error']} | | | |")
            continue
        print(f"| {r['data']} | {r['model']} | {r['n_train']:,} / {r['n_test']:,} | {r['auc']:.4f} | {r['ks']:.4f} | {r['brier']:.4f} | {r['fit_seconds']} |")


if __name__ == "__main__":
    main()
