"""Trait types of the widgets, each owning its validation and its wire format.

Row indices (:class:`RowIndex`, :class:`RowIndices`, the one rule for every index
trait of every widget), and the t-SNE widgets' columns, categories and point frames,
shared by :class:`~vae_widgets.TSNEWidget` and :class:`~vae_widgets.TSNESweepWidget`
(see :mod:`vae_widgets.widgets.table_view`); no widget module imports another for
them. Column and category traits check against the widget's table and colours
(``obj._table``, ``obj.color_names``) and say which names exist.

Point frames are not a trait: they travel as custom messages, in the wire format of
:mod:`vae_widgets.widgets._frames`.
"""
from __future__ import annotations

import difflib

import numpy as np
import traitlets

from .._validation import moved_names
from ._serialization import array_trait

__all__ = ["RowIndex", "RowIndices", "BadIndex", "check_rows", "ColumnName", "ColumnNames",
           "CategoryNames", "array_trait"]


# ---------------------------------------------------------------- row indices
class BadIndex(traitlets.TraitError, TypeError):
    """A value that is not a row index (or a list of them): a TraitError and a TypeError."""


def _is_index(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


class RowIndex(traitlets.Int):
    """One data-row index; numpy integers are accepted (``v.traversal_base = idx[0]``).
    Floats and bools are refused (1.5 is no row; True is not 1)."""

    def validate(self, obj, value):
        if not _is_index(value):
            raise BadIndex(f"{self.name} must be a row index (an int), got {value!r:.80}.")
        return super().validate(obj, int(value))


class RowIndices(traitlets.List):
    """A list of row indices, the one rule for every index-list trait (``selected``,
    ``selection_indices``): lists, tuples, sets and ranges of ints, numpy integer
    arrays and tensors are accepted; floats, bools, strings and a bare int are
    refused, never truncated (1.5 -> 1, True -> 1 would select the wrong rows)."""

    def __init__(self):
        super().__init__(traitlets.Int())

    def validate(self, obj, value):
        if isinstance(value, (list, tuple, set, frozenset, range)):
            ok = all(type(v) is int or _is_index(v) for v in value)
        else:
            try:
                value = np.asarray(value)
            except Exception:  # noqa: BLE001 - whatever it is, it is not a list of indices
                value = None
            ok = value is not None and value.ndim == 1 and (value.dtype.kind in "iu"
                                                            or value.size == 0)
        if not ok:
            raise BadIndex(f"{self.name} must be a list of row indices (ints), got "
                           f"{value!r:.80}.")
        return super().validate(obj, [int(v) for v in value])


def check_rows(indices, n: int, name: str):
    """Raise a ValueError naming ``name`` when an index is not a row of ``n`` rows."""
    bad = [i for i in indices if not 0 <= i < n]
    if len(bad) == 1:
        raise ValueError(f"{name}: {bad[0]} is not a row of the data (0..{n - 1}).")
    if bad:
        raise ValueError(f"{name}: {bad[:5]} are not rows of the data (0..{n - 1}).")


def _hint(name, options) -> str:
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _listing(options, k: int = 12) -> str:
    options = list(options)
    return ", ".join(repr(o) for o in options[:k]) + (" …" if len(options) > k else "")


class ColumnName(traitlets.Unicode):
    """The name of a column of the widget's table, or "" for none."""

    def validate(self, obj, value):
        value = super().validate(obj, value)
        table = getattr(obj, "_table", None)
        if value and table is not None and value not in table.columns:
            raise traitlets.TraitError(
                f"{self.name}={value!r} is not a column of the table.{_hint(value, table.columns)}"
                f" Columns: {_listing(table.columns)}.")
        return value


class _Names(traitlets.List):
    """A list of names, each once, checked against what ``options(obj)`` offers.

    A single name is taken as a list of one. ``what`` says what a name is (in messages).
    """

    what = "name"

    def __init__(self, **kwargs):
        super().__init__(traitlets.Unicode(), **kwargs)

    def options(self, obj) -> list | None:
        """The names allowed for ``obj`` (None: not known yet, anything goes)."""
        return None

    def validate(self, obj, value):
        if isinstance(value, str):
            value = [value]
        try:
            value = [v if isinstance(v, str) else str(v) for v in value]
        except TypeError:
            raise traitlets.TraitError(f"{self.name} must be a list of {self.what}s, "
                                       f"got {value!r:.80}") from None
        value = super().validate(obj, value)
        options = self.options(obj) if value else None
        bad = [v for v in value if options is not None and v not in options]
        if bad:
            raise traitlets.TraitError(f"{self.name}: {bad[0]!r} is not {self.where(obj)}."
                                       f"{_hint(bad[0], options)} {self.what.capitalize()}s: "
                                       f"{_listing(options)}.")
        return list(dict.fromkeys(value))        # each once, in the order given


class ColumnNames(_Names):
    """Names of columns of the widget's table."""

    what = "column"

    def options(self, obj):
        table = getattr(obj, "_table", None)
        return None if table is None else table.columns

    def where(self, obj):
        return "a column of the table"


class CategoryNames(_Names):
    """Categories of the current colour column (legend entries), e.g. for emphasis."""

    what = "category"

    def options(self, obj):
        if getattr(obj, "color_kind", "categorical") != "categorical":
            raise traitlets.TraitError(
                f"{self.name}: the points are coloured by {obj.color_title or 'nothing'!r}, "
                f"which has no categories; colour by a categorical column first "
                f"(w.color = 'column').")
        names = list(getattr(obj, "color_names", []) or [])
        if (getattr(obj, "color_info", {}) or {}).get("missing"):
            names.append("missing")
        return names

    def where(self, obj):
        return f"a category of {getattr(obj, 'color_title', '') or 'the colours'!r}"


__getattr__ = moved_names(__name__, {
    "Indices": ("vae_widgets.widgets.traits", "RowIndices"),   # the old second name
    "encode_frame": "vae_widgets.widgets._frames",
    "decode_frame": "vae_widgets.widgets._frames",
})
