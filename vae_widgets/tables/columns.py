"""Typing a column (:func:`column_kind`), colouring it (:func:`encode_column`) and
formatting its values for the hover (:func:`format_values`). Plain pandas and numpy."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_COLORS = 20
#: numbers with at most this many distinct values are coloured as categories
MAX_NUMERIC_CATEGORIES = 20
#: strings with more distinct values than this, most of them unique, are free text
TEXT_MIN_UNIQUE = 50
#: percentiles that bound the colour range of continuous columns
ROBUST_RANGE = (0.01, 0.99)
#: hover text longer than this is clipped (with "…")
TEXT_CLIP = 280
#: up to this many columns are shown in the hover when none are named
DEFAULT_TOOLTIP_COLUMNS = 4

KINDS = ("categorical", "boolean", "continuous", "datetime", "text")



def column_kind(s: pd.Series) -> str:
    """One of ``KINDS`` for a column (see the module docstring)."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dt):
        return "continuous"
    if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt):
        return "categorical" if s.nunique(dropna=True) <= MAX_NUMERIC_CATEGORIES else "continuous"
    values = s.dropna()
    if len(values) and values.map(type).isin([bool, np.bool_]).all():
        return "boolean"
    try:
        unique = values.nunique()
    except TypeError:                    # unhashable cells (lists, dicts): as text
        unique = values.astype(str).nunique()
    if unique > TEXT_MIN_UNIQUE and unique > 0.5 * len(values):
        return "text"
    return "categorical"


def _as_seconds(s: pd.Series) -> np.ndarray:
    """Datetimes and durations as float seconds (NaN where missing)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
        ns = s.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    else:
        ns = s.to_numpy(dtype="timedelta64[ns]").astype(np.int64).astype(np.float64)
    ns[s.isna().to_numpy()] = np.nan
    return ns / 1e9


def _natural_order(uniques) -> list:
    """Distinct values in a readable order: numbers numerically, the rest as text."""
    values = list(uniques)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


@dataclass
class ColorEncoding:
    """How one column colours the points.

    ``kind``: categorical | continuous | none. ``values``: float32 per point (category
    codes 0..k-1, or the value itself; NaN where missing). ``names``: category names
    (the last one is the "other" bucket when ``info["other"]`` is its code). ``info``:
    for categories ``other`` (code or -1), ``other_values`` (distinct values in it),
    ``missing``; for continuous ``lo``, ``hi`` (the robust colour range), ``lo_text``,
    ``hi_text``, ``mid_text``, ``below``, ``above`` (points beyond it), ``datetime``,
    ``missing``.
    """

    kind: str
    values: np.ndarray | None
    names: list
    title: str
    info: dict


def encode_column(s: pd.Series, title: str, kind: str | None = None) -> ColorEncoding:
    """The colour encoding of one column (see :class:`ColorEncoding`)."""
    kind = kind or column_kind(s)
    missing = int(s.isna().sum())
    if kind in ("continuous", "datetime"):
        return _encode_continuous(s, title, kind, missing)
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:                    # unhashable cells (lists, dicts): by their text
        codes, uniques = pd.factorize(s.map(str, na_action="ignore"), use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(uniques)
        order = [c for c in s.cat.categories if c in present]
    else:
        order = _natural_order(uniques)
    position = {u: i for i, u in enumerate(uniques)}
    other_values = 0
    if len(order) > MAX_COLORS:      # the most frequent keep a colour, in natural order
        by_count = sorted(order, key=lambda u: -counts[position[u]])
        keep = set(by_count[:MAX_COLORS])
        other_values = len(order) - MAX_COLORS
        order = [u for u in order if u in keep]
    lookup = np.full(len(uniques) + 1, len(order) if other_values else -1, dtype=np.float32)
    for new, u in enumerate(order):
        lookup[position[u]] = new
    lookup[-1] = np.nan              # code -1 (missing) -> the last slot
    values = lookup[codes]
    names = [_category_name(u) for u in order]
    other = -1
    if other_values:
        other = len(names)
        names.append(f"other ({other_values:,} values)")
    return ColorEncoding("categorical", values.astype(np.float32), names, title,
                         {"other": other, "other_values": other_values, "missing": missing})


def _category_name(u) -> str:
    if isinstance(u, (float, np.floating)) and not isinstance(u, bool):
        return str(float(u))
    return str(u.item() if isinstance(u, np.generic) else u)


def _encode_continuous(s, title, kind, missing) -> ColorEncoding:
    timelike = kind == "datetime" or pd.api.types.is_timedelta64_dtype(s.dtype)
    v = _as_seconds(s) if timelike else pd.to_numeric(s, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    finite = v[np.isfinite(v)]
    info = {"datetime": kind == "datetime", "missing": missing, "below": 0, "above": 0}
    if finite.size == 0:
        info.update(lo=float("nan"), hi=float("nan"), lo_text="–", hi_text="–", mid_text="")
        return ColorEncoding("continuous", v.astype(np.float32), [], title, info)
    lo, hi = float(finite.min()), float(finite.max())
    if finite.size >= 100:
        qlo, qhi = (float(q) for q in np.quantile(finite, ROBUST_RANGE))
        if qhi > qlo:
            lo, hi = qlo, qhi
    info.update(lo=lo, hi=hi, below=int((finite < lo).sum()), above=int((finite > hi).sum()))
    fmt = _format_seconds(s, hi - lo) if timelike else format_number
    info.update(lo_text=fmt(lo), hi_text=fmt(hi), mid_text=fmt((lo + hi) / 2))
    return ColorEncoding("continuous", v.astype(np.float32), [], title, info)


def _format_seconds(s, span: float):
    """Range labels of a time column, as precise as its span needs."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        unit = "D" if span > 3 * 86400 else ("min" if span > 3 * 3600 else "s")
        return lambda sec: format_datetime(pd.Timestamp(int(round(sec * 1e9)), unit="ns").round(unit))
    return lambda sec: str(pd.Timedelta(seconds=round(sec, 3)))


# ---------------------------------------------------------------- showing values
def format_number(v) -> str:
    """Readable number text: 1,234 · 0.1235 · 1.23e-05 · 1.23e+07."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)
    if not math.isfinite(v):
        return "∞" if v > 0 else ("-∞" if v < 0 else "NaN")
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e7 or a < 1e-4:
        return f"{v:.3g}"
    if v.is_integer():
        return f"{int(v):,}"
    if a >= 1000:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def format_datetime(t) -> str:
    if t is None or pd.isna(t):
        return ""
    t = pd.Timestamp(t)
    if t.hour == t.minute == t.second == t.microsecond == t.nanosecond == 0 and t.tz is None:
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%d %H:%M" if t.second == 0 else "%Y-%m-%d %H:%M:%S")


def clip_text(text: str, limit: int = TEXT_CLIP) -> str:
    text = " ".join(str(text).split())          # newlines, tabs and runs of spaces: one space
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def format_values(s: pd.Series) -> list:
    """Hover text of each value of ``s`` (None where missing). Plain text: the front end
    escapes it (it is set as text, never as HTML)."""
    na = s.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = [format_datetime(t) for t in s]
    elif pd.api.types.is_timedelta64_dtype(s.dtype):
        out = [str(t) for t in s]
    elif pd.api.types.is_bool_dtype(s.dtype):
        out = [str(bool(v)) if not m else "" for v, m in zip(s, na)]
    elif pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        out = [format_number(v) for v in s.to_numpy()]
    else:
        out = [clip_text(v) if not m else "" for v, m in zip(s, na)]
    return [None if m else t for t, m in zip(out, na)]
