"""The rows behind the points (:class:`PointTable`): colours, hover text, search and the
selection, read from the user's table by reference."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import did_you_mean, listed
from .columns import DEFAULT_TOOLTIP_COLUMNS, ColorEncoding, column_kind, encode_column, format_values


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
                             f"{did_you_mean(name, self._names)} Columns: {listed(self._names)}.")
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
