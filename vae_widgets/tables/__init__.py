"""Tables: which columns are embedded, and how every column is typed,
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

The package has three rooms: :mod:`.reading` (the user's arguments to rows and
columns), :mod:`.columns` (kinds, colours, text) and :mod:`.point_table` (the rows
behind the points). No widgets here: both widgets and the export read it.
"""
from .columns import (DEFAULT_TOOLTIP_COLUMNS, KINDS, MAX_COLORS, MAX_NUMERIC_CATEGORIES,
                      ROBUST_RANGE, TEXT_CLIP, TEXT_MIN_UNIQUE, ColorEncoding, clip_text,
                      column_kind, encode_column, format_datetime, format_number, format_values)
from .point_table import PointTable
from .reading import MISSING, TableInput, as_frame, is_table, split_table, table_for

__all__ = ["DEFAULT_TOOLTIP_COLUMNS", "KINDS", "MAX_COLORS", "MAX_NUMERIC_CATEGORIES", "MISSING",
           "ROBUST_RANGE", "TEXT_CLIP", "TEXT_MIN_UNIQUE", "ColorEncoding", "PointTable",
           "TableInput", "as_frame", "clip_text", "column_kind", "encode_column",
           "format_datetime", "format_number", "format_values", "is_table", "split_table",
           "table_for"]
