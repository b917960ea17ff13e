"""Tables for t-SNE: which columns are embedded, and how every column is typed,
coloured, shown in the hover and searched. Plain pandas and numpy; no widgets here.

A :class:`PointTable` keeps the user's rows (a pandas DataFrame, by reference:
pandas' copy-on-write means nothing is copied) beside the matrix t-SNE embeds, so
every column stays available for colour, hover, search and the selection.

Column kinds (:func:`column_kind`):

* ``categorical``: strings with few distinct values, pandas categoricals, and numbers
  with at most ``MAX_NUMERIC_CATEGORIES`` distinct values;
* ``boolean``: True / False (coloured as two categories);
* ``continuous``: other numbers, and durations (in seconds);
* ``datetime``: dates and times (coloured as continuous, labelled as dates);
* ``text``: strings that are mostly unique (titles, descriptions): searched and shown
  in the hover; coloured by their most frequent values.

Colours (:meth:`PointTable.encode`): categories get one colour each up to
``MAX_COLORS``; beyond that the most frequent ``MAX_COLORS`` keep theirs and the
rest share one "other" entry. Continuous columns are mapped over a robust range
(1st to 99th percentile), so a few extreme values do not wash the map out; the
values beyond it are counted and drawn in the end colours.
"""
from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: categories that get a colour of their own; the rest share "other"
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


# ---------------------------------------------------------------- reading tables
def as_frame(obj, name: str = "df") -> pd.DataFrame | None:
    """A pandas DataFrame for a table (pandas, polars, pyarrow, or anything with the
    dataframe interchange protocol); None for other objects (arrays, tensors)."""
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, pd.Series):
        return obj.to_frame(name=obj.name if obj.name is not None else name)
    if type(obj).__module__.split(".")[0] in ("polars", "pyarrow") and hasattr(obj, "to_pandas"):
        try:
            out = obj.to_pandas()
        except Exception as exc:   # e.g. polars without pyarrow
            raise TypeError(f"{name}: could not convert the {type(obj).__name__} to pandas "
                            f"({exc}); pass df.to_pandas() yourself.") from None
        if isinstance(out, pd.DataFrame):
            return out
    if hasattr(obj, "__dataframe__") and not hasattr(obj, "__array__"):
        with warnings.catch_warnings():     # deprecated in pandas 3, still the common ground
            warnings.simplefilter("ignore")
            return pd.api.interchange.from_dataframe(obj)
    return None


def is_table(obj) -> bool:
    return isinstance(obj, (pd.DataFrame, pd.Series)) or (
        obj is not None and not isinstance(obj, np.ndarray)
        and (hasattr(obj, "__dataframe__") or (
            type(obj).__module__.split(".")[0] in ("polars", "pyarrow")
            and hasattr(obj, "to_pandas"))))


def _close(name, options) -> str:
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _shown(options, k: int = 12) -> str:
    options = list(options)
    return ", ".join(repr(str(c)) for c in options[:k]) + (" …" if len(options) > k else "")


def _is_feature_dtype(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype))


@dataclass
class TableInput:
    """What :func:`split_table` makes of the user's arguments."""

    X: object                   # what the runner embeds (array, DataFrame of features, ...)
    labels: np.ndarray | None   # per-row labels given as an array (not a column)
    frame: pd.DataFrame | None  # the user's table (every column), if any
    features: list = field(default_factory=list)   # embedded columns of ``frame``
    label_column: str | None = None                # a column named by labels=
    #: ``missing="drop"``: the positions (in the user's rows) of the rows kept, and how many
    #: were left out; None / 0 when every row is used
    kept: np.ndarray | None = None
    dropped: int = 0
    #: what was done to the input before (an AnnData's representation, a sparse reduction)
    notes: list = field(default_factory=list)

    def describe_dropped(self) -> str:
        """For the info line: how many rows were left out, and why (or "")."""
        if not self.dropped:
            return ""
        return (f"{self.dropped:,} row{'s' if self.dropped != 1 else ''} with missing values "
                f"left out (missing='drop')")


MISSING = ("refuse", "drop")


def split_table(X, labels=None, *, features=None, df=None, missing: str = "refuse") -> TableInput:
    """Sort out which rows are embedded and which table is shown.

    * ``X`` a table: ``features`` (default: every numeric and boolean column, except
      the one named by ``labels``) are embedded; every column is kept for display.
    * ``X`` an array (or tensor, Dataset) and ``df`` a table of the same rows: ``X`` is
      embedded, ``df`` is shown.
    * ``labels`` may name a column (of ``df``, else of ``X``) or be one value per row.
    * ``missing``: a feature value that is missing (NaN, None, NA) is refused with the
      columns named ("refuse", the default), or its row is left out ("drop": of the
      features, the table shown and the labels alike; ``kept``/``dropped`` say which and
      how many, and the table keeps its own index, so selections name the user's rows).
    """
    if missing not in MISSING:
        raise ValueError(f"missing={missing!r}: use missing='refuse' (the default: say which "
                         f"columns have gaps) or missing='drop' (leave those rows out).")
    source = as_frame(X, "X") if is_table(X) else None
    shown = as_frame(df, "df")
    if df is not None and shown is None:
        raise TypeError(f"df must be a table (a pandas DataFrame, or polars / pyarrow), got "
                        f"{type(df).__name__}; pass the data to embed as X.")
    frame = shown if shown is not None else source
    label_column = None
    if isinstance(labels, str) and frame is not None:
        if labels not in frame.columns and not (source is not None and labels in source.columns):
            raise ValueError(f"labels={labels!r} is not a column of {'df' if shown is not None else 'X'}."
                             f"{_close(labels, frame.columns)} Columns: {_shown(frame.columns)}.")
        label_column = labels
        if labels not in frame.columns:          # a label column of X, df shown beside it
            frame = frame.assign(**{labels: source[labels].to_numpy()})
        labels = None
    if source is None:
        if features is not None:
            raise TypeError("features= picks columns of a DataFrame X; X is not a table. Pass "
                            "the DataFrame as X (features=[...] its columns to embed), or embed "
                            "X as it is and show a table beside it with df=.")
        inp = TableInput(X, labels, frame, [], label_column)
        if missing == "drop" and isinstance(X, np.ndarray) and X.ndim == 2 \
                and np.issubdtype(X.dtype, np.floating):
            _drop_rows(inp, ~np.isnan(X).any(axis=1))
        return inp
    if features is None:
        features = [c for c in source.columns if c != label_column and _is_feature_dtype(source[c])]
        if not features:
            raise TypeError(f"X: the table has no numeric column to embed (columns: "
                            f"{_shown(source.columns)}); pass features=[...] naming numeric "
                            f"columns, or embed an array and show the table with df=.")
    else:
        features = _check_features(source, features)
    inp = TableInput(source[features], labels, frame, list(features), label_column)
    if missing == "drop":
        _drop_rows(inp, ~source[features].isna().any(axis=1).to_numpy())
    else:
        _check_missing(source, features)
    return inp


def _drop_rows(inp: TableInput, keep: np.ndarray) -> None:
    """Keep only the rows ``keep`` (a boolean mask) of the features, the table and the labels."""
    if keep.all():
        return
    if not keep.any():
        raise ValueError("missing='drop' leaves no row: every row has a missing feature value; "
                         "leave the emptiest columns out with features=[...] or impute them.")
    kept = np.flatnonzero(keep)
    inp.kept, inp.dropped = kept, int(len(keep) - len(kept))
    inp.X = inp.X.iloc[kept] if hasattr(inp.X, "iloc") else inp.X[kept]
    if inp.frame is not None:
        inp.frame = inp.frame.iloc[kept]
    if inp.labels is not None and not isinstance(inp.labels, str) and np.ndim(inp.labels) == 1 \
            and len(inp.labels) == len(keep):
        inp.labels = np.asarray(inp.labels)[kept]


def table_for(inp: TableInput, n: int, labels=None, label_name: str = "label",
              color: str | None = None) -> tuple["PointTable", str | None]:
    """The :class:`PointTable` of ``n`` embedded rows and the column to colour by
    (``color``, else the labels)."""
    table = PointTable(inp.frame, n, labels=labels, label_name=label_name, features=inp.features)
    if color is None:
        color = inp.label_column or (label_name if labels is not None else None)
    return table, color


def _check_features(source: pd.DataFrame, features) -> list:
    if isinstance(features, str) or not hasattr(features, "__iter__"):
        raise TypeError(f"features must be a list of column names, e.g. features=['a', 'b']; "
                        f"got {features!r}.")
    features = list(features)
    if not features:
        raise ValueError("features is empty; name at least one numeric column to embed.")
    missing = [f for f in features if f not in source.columns]
    if missing:
        raise ValueError(f"features: {missing[:5]} {'is not a column' if len(missing) == 1 else 'are not columns'}"
                         f" of X.{_close(missing[0], source.columns)} Columns: {_shown(source.columns)}.")
    bad = [f for f in features if not (_is_feature_dtype(source[f]) or
                                       pd.api.types.is_bool_dtype(source[f].dtype))]
    if bad:
        raise TypeError(f"features: columns {[str(b) for b in bad[:5]]} are not numeric; only numbers "
                        f"are embedded. Leave them out of features (they stay in the table for colour, "
                        f"hover and search) or encode them as numbers first.")
    return features


def _check_missing(source: pd.DataFrame, features) -> None:
    na = source[features].isna().sum()
    na = na[na > 0]
    if len(na):
        cols = [str(c) for c in na.index[:5]]
        raise ValueError(f"X: feature columns {cols} have missing values ({int(na.max()):,} rows "
                         f"in {cols[int(np.argmax(na.values[:5]))]!r}); impute them, leave those "
                         f"rows out with missing='drop', or leave the columns out with "
                         f"features=[...].")


# ---------------------------------------------------------------- typing columns
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


# ---------------------------------------------------------------- the table
class PointTable:
    """The rows behind the points: typing, colours, hover text, search, selection.

    Parameters
    ----------
    frame : DataFrame, optional
        The user's table (one row per point, in the same order); kept by reference.
    n : int
        Number of points.
    labels : array (n,), optional
        Labels given as an array: shown as a column named ``label_name``.
    label_name : str
        Name of that column.
    features : list
        Columns of ``frame`` that were embedded.
    """

    def __init__(self, frame: pd.DataFrame | None, n: int, labels=None, label_name="label",
                 features=()):
        if frame is not None and len(frame) != n:
            raise ValueError(f"df has {len(frame):,} rows but X has {n:,}; pass one table row "
                             f"per embedded row, in the same order.")
        self.synthetic = frame is None          # no user table: made from the labels
        if frame is None:
            frame = pd.DataFrame(index=pd.RangeIndex(n))
        if labels is not None:
            if label_name in frame.columns:
                raise ValueError(f"labels= is given as an array but the table already has a "
                                 f"column {label_name!r}; pass labels={label_name!r} to colour by "
                                 f"it, or label_name='...' for the array.")
            frame = frame.assign(**{label_name: np.asarray(labels)})
        self.frame = frame
        self.n = n
        self.features = list(features)
        self._names = {}
        for c in frame.columns:
            self._names.setdefault(str(c), c)
        self._kinds: dict[str, str] = {}
        self._lower: dict[str, pd.Series] = {}

    # ------------------------------------------------------------ columns
    @property
    def columns(self) -> list[str]:
        return list(self._names)

    def column(self, name: str) -> pd.Series:
        return self.frame[self._names[name]]

    def check_column(self, name, what: str = "column") -> str:
        """``name`` if it is a column; else a ValueError that lists the columns."""
        if not isinstance(name, str) or name not in self._names:
            raise ValueError(f"{what}={name!r} is not a column of the table."
                             f"{_close(name, self._names)} Columns: {_shown(self._names)}.")
        return name

    def kind(self, name: str) -> str:
        if name not in self._kinds:
            self._kinds[name] = column_kind(self.column(name))
        return self._kinds[name]

    def describe(self) -> list[dict]:
        """One entry per column for the view's menus: name, group (number, string,
        category, boolean, datetime) and whether it is embedded (feature).
        Cheap (no pass over the data): kinds are found when a column is used."""
        out = []
        for name, c in self._names.items():
            dt = self.frame[c].dtype
            if isinstance(dt, pd.CategoricalDtype):
                group = "category"
            elif pd.api.types.is_bool_dtype(dt):
                group = "boolean"
            elif pd.api.types.is_datetime64_any_dtype(dt):
                group = "datetime"
            elif pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt):
                group = "number"
            else:
                group = "string"
            out.append({"name": name, "group": group, "feature": c in self.features})
        return out

    def default_tooltip(self, first: str | None = None) -> list[str]:
        """The hover's columns when none are named: the non-embedded columns (up to
        ``DEFAULT_TOOLTIP_COLUMNS``), or the first embedded ones when all are embedded."""
        cols = [c for c in self._names if self._names[c] not in self.features]
        if not cols:
            cols = list(self._names)
        if first in cols:
            cols.remove(first)
        return cols[:DEFAULT_TOOLTIP_COLUMNS]

    # ------------------------------------------------------------ colours, text
    def encode(self, name: str) -> ColorEncoding:
        kind = self.kind(name)
        return encode_column(self.column(name), name, "categorical" if kind in (
            "boolean", "text") else kind)

    def text(self, name: str, indices=None) -> list:
        s = self.column(name)
        if indices is not None:
            s = s.iloc[np.asarray(indices, dtype=np.int64)]
        return format_values(s)

    def text_size(self, names, sample: int = 1000) -> int:
        """Estimated characters of the hover text of ``names`` over every row."""
        if not names or self.n == 0:
            return 0
        idx = np.linspace(0, self.n - 1, min(sample, self.n)).astype(np.int64)
        per_row = sum(sum(len(t or "") + 4 for t in self.text(c, idx)) for c in names) / len(idx)
        return int(per_row * self.n)

    # ------------------------------------------------------------ search
    def search(self, query: str, names) -> np.ndarray:
        """Rows whose text in any of ``names`` contains ``query`` (case-insensitive
        substring, spaces at both ends ignored); int64 row positions, ascending."""
        q = str(query).strip().casefold()
        if not q:
            return np.zeros(0, dtype=np.int64)
        hit = np.zeros(self.n, dtype=bool)
        for name in names:
            hit |= self._searchable(name).str.contains(q, regex=False).to_numpy(
                dtype=bool, na_value=False)
        return np.flatnonzero(hit)

    def _searchable(self, name: str) -> pd.Series:
        """The column as case-folded text (kept for the columns searched: typing in the
        box searches again at every key)."""
        if name not in self._lower:
            s = self.column(name)
            if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object
                    or isinstance(s.dtype, pd.CategoricalDtype)):
                s = pd.Series(format_values(s), index=s.index, dtype="str")
            self._lower[name] = s.astype("str").str.casefold()
        return self._lower[name]

    def forget_search(self, keep=()) -> None:
        """Drop the case-folded copies of columns no longer searched."""
        for name in [k for k in self._lower if k not in keep]:
            del self._lower[name]

    def default_search(self, tooltip=(), color: str | None = None) -> list[str]:
        """Columns searched when none are named: the text and categorical columns among
        the colour and hover columns."""
        out = []
        for name in ([color] if color else []) + list(tooltip):
            if name in self._names and name not in out and self.kind(name) in (
                    "text", "categorical", "boolean"):
                if pd.api.types.is_numeric_dtype(self.column(name).dtype):
                    continue                      # numbers as categories: not worth searching
                out.append(name)
        return out

    # ------------------------------------------------------------ rows
    def rows(self, indices, features: np.ndarray | None = None,
             feature_names=None) -> pd.DataFrame:
        """The rows at ``indices`` (positions), every column, in the original index.
        With no user table, the embedded ``features`` (named ``x0, x1, ...``) are
        included next to the labels."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        out = self.frame.iloc[idx]
        if self.synthetic and features is not None:
            names = feature_names or [f"x{j}" for j in range(features.shape[1])]
            feats = pd.DataFrame(features[idx], index=out.index, columns=names)
            out = pd.concat([out, feats], axis=1)
        return out
