"""Column kinds and colours (vae_widgets/tables/columns.py)."""
import numpy as np
import pandas as pd

from support.tables import shop
from vae_widgets import tables as T


# ------------------------------------------------------------------ typing
def test_column_kinds():
    df = shop()
    kinds = {c: T.column_kind(df[c]) for c in df.columns}
    assert kinds == {"f1": "continuous", "f2": "continuous", "segment": "categorical",
                     "title": "text", "price": "continuous", "when": "datetime",
                     "vip": "boolean", "stars": "categorical"}
    assert T.column_kind(pd.Series(pd.Categorical(["a", "b"] * 100))) == "categorical"
    assert T.column_kind(pd.Series(pd.to_timedelta(np.arange(100), "s"))) == "continuous"
    assert T.column_kind(pd.Series([True, False, None] * 10, dtype=object)) == "boolean"
    assert T.column_kind(pd.Series([[1, 2], [3]] * 60 + [[i] for i in range(200)])) == "text"


# ------------------------------------------------------------------ colours
def test_categorical_encoding_counts_other_bucket_and_missing():
    rng = np.random.default_rng(2)
    names = [f"c{i:02d}" for i in range(30)]
    p = np.arange(30, 0, -1) / np.arange(30, 0, -1).sum()   # c00 most frequent
    s = pd.Series(rng.choice(names, 3000, p=p), dtype=object)
    s[::100] = None
    enc = T.encode_column(s, "cat")
    assert enc.kind == "categorical" and len(enc.names) == T.MAX_COLORS + 1
    assert enc.names[:3] == ["c00", "c01", "c02"] and enc.names[-1] == "other (10 values)"
    assert enc.info == {"other": T.MAX_COLORS, "other_values": 10, "missing": 30}
    v = enc.values
    assert np.isnan(v[::100]).all() and v.dtype == np.float32
    # every point of a kept category has its code; the rare ones share "other"
    kept = s.isin(enc.names[:-1])
    assert (v[kept.to_numpy()] < T.MAX_COLORS).all()
    assert (v[(~kept & s.notna()).to_numpy()] == T.MAX_COLORS).all()
    # numbers as categories: sorted numerically, named as text
    enc = T.encode_column(pd.Series([10, 2, 2, 33]), "n")
    assert enc.names == ["2", "10", "33"] and enc.values.tolist() == [1, 0, 0, 2]
    assert T.encode_column(pd.Series([True, False]), "b", "categorical").names == ["False", "True"]


def test_continuous_encoding_uses_a_robust_range_and_dates_are_continuous():
    v = np.r_[np.linspace(0, 1, 998), 1000.0, -500.0]
    enc = T.encode_column(pd.Series(v), "x")
    assert enc.kind == "continuous"
    assert 0 <= enc.info["lo"] < 0.02 and 0.98 < enc.info["hi"] <= 1.0   # not -500..1000
    assert enc.info["below"] >= 1 and enc.info["above"] >= 1
    np.testing.assert_allclose(enc.values, v.astype(np.float32))
    df = shop()
    enc = T.encode_column(df["when"], "when")
    assert enc.kind == "continuous" and enc.info["datetime"]
    assert enc.info["lo_text"].startswith("2024-03") and len(enc.info["lo_text"]) == 10
    enc = T.encode_column(df["price"], "price")
    assert enc.info["missing"] == 30 and np.isnan(enc.values[::10]).all()
