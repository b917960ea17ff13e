"""A small mixed table, shared by the table tests."""
import numpy as np
import pandas as pd


def shop(n=300, seed=0):
    """A small mixed table: two features, text, categories, numbers, dates, missing values."""
    rng = np.random.default_rng(seed)
    seg = rng.choice(["retail", "online", "wholesale"], n)
    df = pd.DataFrame({
        "f1": rng.normal(size=n) + (seg == "online") * 4,
        "f2": rng.normal(size=n),
        "segment": seg,
        "title": [f"Order {i}: {'red' if i % 7 == 0 else 'blue'} <b>chair</b> " + "x" * (i % 5)
                  for i in range(n)],
        "price": rng.lognormal(3, 1, n),
        "when": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 90 * 24, n), "h"),
        "vip": rng.random(n) < 0.2,
        "stars": rng.integers(1, 6, n),
    }, index=pd.Index([f"o{1000 + i}" for i in range(n)], name="order_id"))
    df.loc[df.index[::10], "price"] = np.nan
    return df
