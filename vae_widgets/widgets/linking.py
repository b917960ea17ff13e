"""Linked views: a ``TSNEWidget`` of a VAE's latent space that steers the ``VAEWidget``.

``VAEWidget.latent_tsne()`` encodes the data with the current encoder, embeds the
latent means with t-SNE and links the two widgets with traitlets observers:

* lasso in the t-SNE view (``t.selected``) -> the VAE's selection panel shows those
  points and their reconstructions (``v.selection_indices``); the panel's Clear
  button clears the lasso too;
* a click on a point (``t.focused``) -> that point becomes the base of the VAE's
  latent traversal (``v.traversal_base``), re-drawn at once.

The link holds only weak references to the widgets and ends when either widget is
closed (or on ``unlink()``), so nothing is kept alive by it.

Encoding while the VAE trains is safe: the trainer's ``encode``/``reconstruct`` run on
the training thread between two steps (``VAETrainer.run_between_steps``), so they see
consistent weights and cost the training only their own time.
"""
from __future__ import annotations

import weakref
from typing import Optional

import numpy as np

from .._images import as_uint8_images
from .._validation import as_data_matrix, as_labels, moved_names

#: at most this many selected points are drawn in the VAE's selection panel
SELECTION_MAX = 32


# ---------------------------------------------------------------- selection grid
def selection_grid(trainer, source: np.ndarray, indices, labels=None):
    """Originals and reconstructions of ``source[indices]`` (at most ``SELECTION_MAX``).

    Parameters
    ----------
    trainer : VAETrainer
        A ``VAETrainer`` (safe while it trains) or a ``snapshot()`` twin.
    source : ndarray (n, n_features)
        The rows the indices refer to (the training data or the ``X`` of a latent map).
    indices : sequence of int
        Selected rows; only the first ``SELECTION_MAX`` are drawn.
    labels : array (n,), optional
        Class of each source row, for a conditional VAE.

    Returns
    -------
    (ndarray, dict)
        ``uint8`` grid ``(2, k, C, H, W)`` (row 0: data, row 1: reconstructions) and
        its labels dict (as ``vae.visuals``: rows, cols, layout, value range, ...,
        plus ``indices``).
    """
    idx = np.asarray(indices, dtype=np.int64)[:SELECTION_MAX]
    orig = source[idx]
    lab = labels[idx] if (labels is not None and trainer.conditional) else None
    rec = trainer.reconstruct(orig, labels=lab)
    cells = np.concatenate([orig.reshape(len(idx), -1), rec.reshape(len(idx), -1)])
    arr = trainer.display.to_uint8(cells, 2, len(idx))
    return arr, trainer.display.labels("selection", ["original", "reconstruction"],
                                       [f"#{i}" for i in idx], indices=idx.tolist())


# ---------------------------------------------------------------- latent map
def latent_means(trainer, X=None, labels=None) -> np.ndarray:
    """Posterior means of ``X`` (default: the training data) with the current encoder
    (between two steps while training runs)."""
    if X is None:
        X = trainer.data
        labels = trainer.labels if trainer.conditional else None
    mu, _ = trainer.encode(X, labels=labels if trainer.conditional else None)
    return mu


def make_latent_tsne(vae, labels=None, X=None, run: bool = True, **tsne_options):
    """Build a ``TSNEWidget`` of ``vae``'s latent means and link the two (see
    :meth:`VAEWidget.latent_tsne`). Returns the widget."""
    from .table_view import THUMBNAIL_BUDGET
    from .tsne_widget import TSNEWidget

    trainer = vae.source
    if X is None:
        source = trainer.data
        colour = trainer.labels if labels is None else as_labels(labels, len(source))
        cond = trainer.labels
    else:
        if isinstance(X, np.ndarray) and trainer.image_shape is not None and X.ndim > 2:
            X = X.reshape(X.shape[0], -1)
        source = as_data_matrix(X, "X", min_rows=5)
        if source.shape[1] != trainer.n_features:
            raise ValueError(f"X has {source.shape[1]} features per row but the VAE was "
                             f"trained on {trainer.n_features}; pass rows like its data.")
        colour = as_labels(labels, len(source))
        cond = colour
        if trainer.conditional and cond is None:
            raise ValueError("this VAE is conditional: pass labels= (the class of each row "
                             "of X) to encode X.")
    if "image_shape" in tsne_options:
        raise TypeError(f"latent_tsne: image_shape comes from the VAE "
                        f"({trainer.image_shape}); do not pass it.")
    Z = latent_means(trainer, None if X is None else source, cond)
    t = TSNEWidget(Z, labels=colour, **tsne_options)
    shape = trainer.image_shape
    if shape is not None and source.size <= THUMBNAIL_BUDGET:
        # hover shows the data point, not its latent code
        t.image_shape = list(shape)
        t.thumbnails = as_uint8_images(source, shape)
    link = LatentLink(vae, t, None if X is None else source, cond)
    vae._latent_links.append(link)
    if run:
        t.run()
    return t


class LatentLink:
    """Keeps a ``VAEWidget`` and a ``TSNEWidget`` of its latent space in step.

    Made by :meth:`VAEWidget.latent_tsne`; reach it with ``v.latent_link(t)``.

    Parameters
    ----------
    vae : VAEWidget
    tsne : TSNEWidget
        A map of ``source`` (one point per row, same order).
    source : ndarray, optional
        The rows the map shows; None: the VAE's training data (then a clicked point
        also becomes the traversal base; for other rows it cannot, since the
        traversal starts from a training row).
    labels : array, optional
        Class per source row (used to encode/reconstruct with a conditional VAE).
    """

    def __init__(self, vae, tsne, source: Optional[np.ndarray] = None, labels=None):
        self._vae = weakref.ref(vae)
        self._tsne = weakref.ref(tsne)
        self.source = source
        self.labels = labels
        self.linked = True
        # bound methods of this link: the widgets hold the link, the link only weak refs
        tsne.observe(self._on_selected, "selected")
        tsne.observe(self._on_focused, "focused")
        vae.observe(self._on_vae_selection, "selection_indices")
        tsne.observe(self._on_closed, "comm")
        vae.observe(self._on_closed, "comm")

    @property
    def vae(self):
        return self._vae()

    @property
    def tsne(self):
        return self._tsne()

    @property
    def same_rows(self) -> bool:
        """True when the map shows the VAE's training data (indices are data rows)."""
        return self.source is None

    # ------------------------------------------------------------ observers
    def _pair(self):
        v, t = self._vae(), self._tsne()
        if v is None or t is None:
            self.unlink()
            return None, None
        return v, t

    def _on_selected(self, change):
        v, t = self._pair()
        if v is None:
            return
        idx = list(change["new"])
        if self.same_rows:
            v.select(idx)
        else:
            v.select(idx, X=self.source, labels=self.labels)

    def _on_focused(self, change):
        v, t = self._pair()
        if v is None or not self.same_rows:
            return
        i = int(change["new"])
        if i >= 0:
            v.traversal_base = i

    def _on_vae_selection(self, change):
        """The VAE panel's Clear button (or Python) cleared the selection: clear the lasso."""
        v, t = self._pair()
        if v is None or change["new"] or not t.selected:
            return
        # only when the VAE shows rows of this map
        ours = v.selection_source is (None if self.same_rows else self.source)
        if ours:
            t.selected = []

    def _on_closed(self, change):
        if change["new"] is None:
            self.unlink()

    # ------------------------------------------------------------ public
    def refresh(self, wait: bool = False) -> None:
        """Re-encode the rows with the VAE's current encoder and re-run the t-SNE map.

        A running t-SNE is stopped first. The selection and the focused point are
        kept (they are row indices). ``wait=True`` blocks until the map is done.
        """
        v, t = self._pair() if self.linked else (None, None)
        if v is None:
            raise RuntimeError("this link has ended (a widget was closed or unlink() called).")
        if t.running:
            t.stop()
            t.wait()
        Z = latent_means(v.trainer, None if self.same_rows else self.source, self.labels)
        t.runner.set_data(Z)
        t.run()
        if wait:
            t.wait()

    def unlink(self) -> None:
        """Stop following: the widgets keep their state but no longer steer each other."""
        if not self.linked:
            return
        self.linked = False
        for ref, pairs in ((self._tsne, ((self._on_selected, "selected"),
                                         (self._on_focused, "focused"),
                                         (self._on_closed, "comm"))),
                           (self._vae, ((self._on_vae_selection, "selection_indices"),
                                        (self._on_closed, "comm")))):
            w = ref()
            if w is None:
                continue
            for fn, name in pairs:
                try:
                    w.unobserve(fn, name)
                except ValueError:
                    pass
        v = self._vae()
        if v is not None and self in v._latent_links:
            v._latent_links.remove(self)

    def __repr__(self):
        state = "linked" if self.linked else "unlinked"
        return f"LatentLink({state}, rows={'training data' if self.same_rows else 'X'})"


_MOVED = {"BadIndex", "RowIndex", "RowIndices", "check_rows"}      # to .traits


__getattr__ = moved_names(__name__, {name: "vae_widgets.widgets.traits" for name in _MOVED})
