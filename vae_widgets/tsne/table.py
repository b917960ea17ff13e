"""Moved: the table the points stand for (reading, column kinds and colours, the
:class:`PointTable`) is :mod:`vae_widgets.tables`: view data, read by both widgets and the
export, not part of the t-SNE engine. The old names import from here for one release, with
a DeprecationWarning."""
from .._validation import moved_names

__getattr__ = moved_names(__name__, dict.fromkeys(
    ["DEFAULT_TOOLTIP_COLUMNS", "KINDS", "MAX_COLORS", "MAX_NUMERIC_CATEGORIES", "MISSING",
     "ROBUST_RANGE", "TEXT_CLIP", "TEXT_MIN_UNIQUE", "ColorEncoding", "PointTable",
     "TableInput", "as_frame", "clip_text", "column_kind", "encode_column", "format_datetime",
     "format_number", "format_values", "is_table", "split_table", "table_for"],
    "vae_widgets.tables"))
