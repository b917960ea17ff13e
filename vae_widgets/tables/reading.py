"""Reading the user's table: which rows and columns are embedded, which table is shown
beside the points, the refusals (missing values, non-numeric features) and
``missing="drop"``."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validation import did_you_mean, listed
from .point_table import PointTable


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
                             f"{did_you_mean(labels, frame.columns)} Columns: {listed(frame.columns)}.")
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
                            f"{listed(source.columns)}); pass features=[...] naming numeric "
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
                         f" of X.{did_you_mean(missing[0], source.columns)} Columns: {listed(source.columns)}.")
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
