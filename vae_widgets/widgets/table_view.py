"""``TableView``: what both t-SNE widgets share about the points they show.

The traits a view needs to draw, colour, explain and search the points, and the glue
to a :class:`~vae_widgets.tables.PointTable` (the user's rows):

* colour by any column (``color``), with the encoding in ``color_*`` traits; legend
  emphasis and hidden categories (``emphasized``, ``hidden``);
* hover text of the ``tooltip_columns``: shipped with the widget
  (``tooltip_data``) while it fits ``TOOLTIP_BUDGET``, else fetched per hovered
  point (``tooltip_fetch``; a ``rows`` request answered by :meth:`_answer_rows`);
  thumbnails the same way (``THUMBNAIL_BUDGET``, ``thumbnails_fetch``);
* search: ``query`` over ``search_columns`` gives ``matches``;
* the selection (``selected``) and the selected rows as a DataFrame.

Frames are sent by ``StreamWidget`` in the wire format of :mod:`vae_widgets.widgets._frames`.
"""
from __future__ import annotations

import numpy as np
import traitlets

from .. import _schema as S
from .._images import as_uint8_images
from ..tables import PointTable
from ._serialization import array_trait
from .traits import CategoryNames, ColumnName, ColumnNames, RowIndices

#: characters of hover text shipped with the widget; beyond it, hover fetches rows
TOOLTIP_BUDGET = 4 * 2**20
#: thumbnail bytes shipped with the widget; beyond it, hover fetches each thumbnail
THUMBNAIL_BUDGET = 32 * 2**20
#: rows one request may ask for
MAX_ROWS_PER_REQUEST = 64


class TableView(traitlets.HasTraits):
    """Mixin for a :class:`~vae_widgets.widgets._base.StreamWidget` that shows points."""

    n_points = traitlets.Int(0).tag(sync=True)
    #: every column of the table: name, group (number, text, category, boolean, datetime), feature
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: the column the points are coloured by ("" for one colour)
    color = ColumnName("").tag(sync=True)
    color_kind = traitlets.Unicode("none").tag(sync=True)
    color_values = array_trait("float32")
    color_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    color_title = traitlets.Unicode("").tag(sync=True)
    #: other, missing (categories); lo, hi, lo_text, hi_text, below, above (continuous)
    color_info = traitlets.Dict().tag(sync=True)
    #: categories drawn in full colour while the others fade (legend click)
    emphasized = CategoryNames().tag(sync=True)
    #: categories not drawn (and not hovered or lassoed)
    hidden = CategoryNames().tag(sync=True)
    #: category names drawn on the map at their members' centre
    show_labels = traitlets.Bool(True).tag(sync=True)
    #: columns shown when hovering a point (the colour column comes first); ``tooltip=``
    #: of the constructor (``tooltip`` itself is ipywidgets' hover text of a whole widget)
    tooltip_columns = ColumnNames().tag(sync=True)
    tooltip_data = traitlets.Dict().tag(sync=True)
    tooltip_fetch = traitlets.Bool(False).tag(sync=True)
    image_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    thumbnails = array_trait("uint8")
    thumbnails_fetch = traitlets.Bool(False).tag(sync=True)
    selected = RowIndices().tag(sync=True)
    #: text searched for (case-insensitive substring) in ``search_columns``
    query = traitlets.Unicode("").tag(sync=True)
    search_columns = ColumnNames().tag(sync=True)
    matches = array_trait("uint32")
    n_matches = traitlets.Int(0).tag(sync=True)

    _table: PointTable | None = None

    # ------------------------------------------------------------ set-up
    def _setup_table(self, table: PointTable, *, color=None, tooltip=None, search=None,
                     images=None, image_shape=None) -> None:
        """Attach the table and fill the traits (call after ``super().__init__``)."""
        self._table = table
        self._texts: dict[str, list] = {}
        self._search_named = search is not None
        self._images = None
        color = "" if color is None else table.check_column(color, "color")
        tooltip = table.default_tooltip(color) if tooltip is None else tooltip
        with self.hold_sync():
            self.columns = table.describe()
            self.tooltip_columns = tooltip
            if search is not None:
                self.search_columns = search
            self._apply_color(color)
            self.color = color
            self._set_images(images, image_shape)
        self.on_msg(self._on_rows_msg)

    def _set_images(self, X, shape) -> None:
        if shape is None:
            return
        if X.size <= THUMBNAIL_BUDGET:
            self.image_shape, self.thumbnails = list(shape), as_uint8_images(X, shape)
        else:   # hover asks for each thumbnail; scaled by the whole data's range
            self._images = (X, tuple(shape), float(X.min()), float(X.max()))
            self.image_shape, self.thumbnails_fetch = list(shape), True

    # ------------------------------------------------------------ public API
    @property
    def table(self):
        """Every row behind the points (a pandas DataFrame, the original index)."""
        return self._table.frame

    @property
    def selected_rows(self):
        """The selected rows of the table, every column, in the original index (a DataFrame).

        Rows without a table (``X`` was an array) hold the labels and the embedded
        features. Points added with ``add_points`` are not rows of the table.
        """
        idx = [i for i in self.selected if i < self.n_points]
        return self._rows(idx)

    def search(self, query: str) -> np.ndarray:
        """Set the search text (as typing it in the view's box does); returns the matching
        point indices. Case-insensitive substring over ``search_columns``."""
        self.query = query
        return self.matches_array

    @property
    def matches_array(self) -> np.ndarray:
        """Indices of the points that match ``query`` (int64, ascending)."""
        m = self.matches
        return np.zeros(0, np.int64) if m is None else m.astype(np.int64)

    def select_matches(self) -> list[int]:
        """Make the search matches the selection (as the view's *select* button does)."""
        self.selected = self.matches_array.tolist()
        return self.selected

    # ------------------------------------------------------------ encoding
    @property
    def _labels(self):
        """Values of the colour column (what the HTML export colours by)."""
        return None if not self.color else self._table.column(self.color).to_numpy()

    @traitlets.observe("color")
    def _color_changed(self, change):
        if self._table is not None and change["new"] != self.color_title:
            self._apply_color(change["new"])

    def _apply_color(self, name: str) -> None:
        enc = self._table.encode(name) if name else None
        with self.hold_sync():
            self.emphasized, self.hidden = [], []     # categories of the old colours
            if enc is None:
                self.color_kind, self.color_values, self.color_names = "none", None, []
                self.color_title, self.color_info = "", {}
            else:
                self.color_values, self.color_names = enc.values, enc.names
                self.color_title, self.color_info, self.color_kind = enc.title, enc.info, enc.kind
            self._refresh_tooltip()

    @traitlets.observe("tooltip_columns")
    def _tooltip_changed(self, change):
        if self._table is not None:
            self._refresh_tooltip()

    def _hover_columns(self) -> list[str]:
        return list(dict.fromkeys(([self.color_title] if self.color_title else []) + self.tooltip_columns))

    def _refresh_tooltip(self) -> None:
        cols = self._hover_columns()
        if self._table.text_size(cols) <= TOOLTIP_BUDGET:
            for c in [c for c in self._texts if c not in cols]:
                del self._texts[c]
            for c in cols:
                if c not in self._texts:
                    self._texts[c] = self._table.text(c)
            data = {"columns": cols, "values": [self._texts[c] for c in cols]}
            self.tooltip_fetch, self.tooltip_data = False, data
        else:
            self._texts.clear()
            self.tooltip_fetch, self.tooltip_data = True, {"columns": cols}
        if not self._search_named:          # follow the colour and hover columns
            self._auto_search = True
            try:
                self.search_columns = self._table.default_search(self.tooltip_columns, self.color_title)
            finally:
                self._auto_search = False

    # ------------------------------------------------------------ search
    @traitlets.observe("query", "search_columns")
    def _search_changed(self, change):
        if self._table is None:
            return
        if change["name"] == "search_columns" and not getattr(self, "_auto_search", False):
            self._search_named = True           # named by the user: kept from now on
        self._table.forget_search(keep=self.search_columns)
        idx = self._table.search(self.query, self.search_columns)
        with self.hold_sync():
            self.matches = idx.astype(np.uint32) if len(idx) else None
            self.n_matches = int(len(idx))

    # ------------------------------------------------------------ selection
    def _selectable(self) -> int:
        return self.n_points

    @traitlets.validate("selected")
    def _check_selected(self, proposal):
        idx = proposal["value"]
        total = self._selectable()
        bad = [i for i in idx if not 0 <= i < total]
        if bad:
            raise traitlets.TraitError(
                f"selected: indices {bad[:5]} are outside 0..{total - 1}.")
        return idx

    def _rows(self, idx):
        return self._table.rows(idx)

    # ------------------------------------------------------------ hover rows on request
    def _on_rows_msg(self, _widget, content: dict, _buffers):
        if content.get("type") == S.ROWS:
            try:
                self._answer_rows(content)
            except (TypeError, ValueError) as exc:
                self.notice = f"hover: {exc}"

    def _answer_rows(self, content: dict) -> None:
        """Hover text (and thumbnails) of a few points, for one view's request."""
        n = self.n_points
        idx = [int(i) for i in content.get("indices") or []][:MAX_ROWS_PER_REQUEST]
        idx = [i for i in idx if 0 <= i < n]
        cols = self._hover_columns()
        reply = {"type": S.ROWS, "view": content.get("view"), "req": content.get("req"),
                 "indices": idx, "columns": cols,
                 "values": [self._table.text(c, idx) for c in cols] if idx else []}
        buffers = []
        if self._images is not None and idx:
            X, shape, lo, hi = self._images
            reply["thumbnails"] = list(shape)
            buffers.append(memoryview(as_uint8_images(X[idx], shape, lo, hi).reshape(-1)))
        self.send(reply, buffers=buffers)

