"""Export a t-SNE run or a VAE training to Bokeh: layouts for apps, standalone HTML files.

``to_bokeh(obj)`` returns a Bokeh layout (for a Bokeh server or Panel app);
``save_html(obj, path)`` writes ONE self-contained HTML file: Bokeh's JavaScript is
inlined (``bokeh.resources.INLINE``), thumbnails and images are data URIs, so the
file opens offline. ``obj`` is a :class:`~vae_widgets.TSNEWidget`,
:class:`~vae_widgets.VAEWidget`, ``TSNERunner``, ``VAETrainer``, a Bokeh model, or a
list of these (one section each).

User text (labels, column names, titles) is escaped before it reaches any HTML
template, so a label such as ``<img src=x onerror=alert(1)>`` is shown as text.
What does not exist yet (no run, no training) is exported with a visible note.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
import warnings
from typing import Any

import numpy as np

from ._common import heading, note
from ._tsne import MAX_THUMBNAILS, tsne_layout
from ._vae import vae_layout

__all__ = ["to_bokeh", "save_html", "tsne_layout", "vae_layout", "heading", "note",
           "MAX_THUMBNAILS"]


def to_bokeh(obj: Any, *, title: str | None = None, max_thumbnails: int = MAX_THUMBNAILS):
    """A Bokeh layout of a widget's or engine's current state.

    Parameters
    ----------
    obj : TSNEWidget, VAEWidget, TSNERunner, VAETrainer, bokeh model, or a list of them
        What to show. A list becomes one column with a section per item.
    title : str, optional
        Section heading (default: "t-SNE" / "VAE").
    max_thumbnails : int
        At most this many t-SNE points get a thumbnail in the hover.

    Returns
    -------
    bokeh.models.LayoutDOM

    Raises
    ------
    TypeError
        ``obj`` is none of the above.
    """
    from bokeh.layouts import column
    from bokeh.model import Model

    if isinstance(obj, (list, tuple)):
        if not obj:
            raise ValueError("obj: the list is empty; pass at least one widget or engine.")
        return column(*[to_bokeh(o, max_thumbnails=max_thumbnails) for o in obj])
    if isinstance(obj, Model):
        return obj
    kind = _kind(obj)
    if kind == "tsne":
        return tsne_layout(**_tsne_args(obj), title=title or "t-SNE",
                           max_thumbnails=max_thumbnails)
    if kind == "vae":
        return vae_layout(**_vae_args(obj), title=title or "VAE")
    raise TypeError(f"obj: cannot export a {type(obj).__name__}; pass a TSNEWidget, "
                    f"VAEWidget, TSNERunner, VAETrainer or a Bokeh layout.")


def save_html(obj: Any, path, *, title: str | None = None,
              max_thumbnails: int = MAX_THUMBNAILS) -> pathlib.Path:
    """Write ``obj`` (see :func:`to_bokeh`) to one self-contained, offline HTML file.

    Parameters
    ----------
    obj : TSNEWidget, VAEWidget, TSNERunner, VAETrainer, bokeh model, or a list of them
    path : str or path-like
        Where to write (parent folders must exist); ``.html`` is the usual suffix.
    title : str, optional
        The page title (the browser tab) and, for a single object, its heading.
    max_thumbnails : int
        At most this many t-SNE points get a hover thumbnail.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from bokeh.embed import file_html

    path = pathlib.Path(path)
    if path.is_dir():
        raise ValueError(f"path: {str(path)!r} is a folder; give a file name such as "
                         f"{str(path / 'report.html')!r}.")
    if not path.parent.exists():
        raise ValueError(f"path: the folder {str(path.parent)!r} does not exist; create it first.")
    layout = to_bokeh(obj, title=title if not isinstance(obj, (list, tuple)) else None,
                      max_thumbnails=max_thumbnails)
    page = file_html(layout, resources=_offline_resources(), title=title or "vae_widgets export")
    _write_whole(path, page)
    return path


def _offline_resources():
    """Bokeh's inline resources without the files other libraries link by URL.

    Bokeh adds the ``__javascript__``/``__css__`` URLs of *every* model class imported in
    the process to every page, used or not: once Panel is imported (a dashboard, or
    ``w.to_panel()``), ``INLINE`` pages carry ``<script src="static/extensions/panel/...">``,
    which a file opened offline cannot load. The layouts here use Bokeh's own models
    only, whose code is inlined.
    """
    from bokeh.resources import Resources

    class Offline(Resources):
        def clone(self, *, components=None) -> "Offline":   # (Bokeh's clone makes a Resources)
            copy = super().clone(components=components)
            copy.__class__ = Offline
            return copy

        @property
        def js_files(self) -> list:
            return []

        @property
        def css_files(self) -> list:
            return []

    return Offline(mode="inline")


def _write_whole(path: pathlib.Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then replace ``path`` with it: a save
    that fails half-way (a full disk, an interrupt) leaves the previous file as it was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------- reading the objects
def _kind(obj) -> str | None:
    from ..tsne.runner import TSNERunner

    runner = getattr(obj, "runner", None)
    if isinstance(obj, TSNERunner) or isinstance(runner, TSNERunner) or (
            type(runner).__name__ == "RemoteTSNE"):      # TSNEWidget.listen(): what arrived
        return "tsne"
    cls = type(obj).__name__
    if cls in ("VAETrainer", "VAEWidget") or hasattr(obj, "trainer") and hasattr(
            getattr(obj, "trainer"), "render_visuals"):
        return "vae"
    return None


def _tsne_args(obj) -> dict:
    """Embedding, labels, thumbnails and KL history of a TSNEWidget or TSNERunner."""
    widget = obj if hasattr(obj, "runner") else None
    runner = obj.runner if widget is not None else obj
    notes = []
    emb = runner.embedding
    if emb is not None and runner.running:
        notes.append(f"t-SNE was still running (iteration {runner.iteration}) when this was "
                     f"exported: the embedding and curve are a snapshot.")
    elif emb is not None and runner.state == "stopped":
        notes.append(f"t-SNE was stopped at iteration {runner.iteration} before the end.")
    if emb is None:
        warnings.warn("export: t-SNE has not run yet; the export holds a note, no embedding.",
                      stacklevel=3)
    args = dict(embedding=None if emb is None else np.array(emb, dtype=np.float64),
                history=runner.history_frame, marks=list(runner.marks), notes=notes)
    if widget is not None:
        args["labels"] = widget._labels
        args["label_name"] = widget.color_title or "label"
        thumbs, shape = widget.thumbnails, list(widget.image_shape)
        if thumbs is not None and shape:
            args["images"] = np.asarray(thumbs, dtype=np.uint8).reshape(-1, *shape)
    return args


def _vae_args(obj) -> dict:
    """Histories and image grids of a VAEWidget (training or watching) or VAETrainer."""
    widget = obj if hasattr(obj, "_producer") else None
    trainer = obj._producer if widget is not None else obj      # VAETrainer or LoopMonitor
    notes = []
    history, epochs = trainer.history, trainer.epoch_history
    if len(history) == 0:
        warnings.warn("export: the VAE has not trained yet; the export holds a note, no curves.",
                      stacklevel=3)
    grids = {}
    if trainer.running:
        notes.append(f"Training was still running (epoch {trainer.epoch}) when this was "
                     f"exported: the curves and images are a snapshot.")
        if widget is not None:   # the grids the widget last received
            for kind, meta in (widget.grids or {}).items():
                arr = getattr(widget, f"grid_{kind}", None)
                if arr is not None:
                    grids[kind] = (np.asarray(arr, np.uint8).reshape(meta["shape"]), meta["labels"])
    else:   # of the model as it is now
        grids = trainer.monitor.render(step=trainer.step, progress=float(trainer.epoch),
                                       publish=False)
    if len(history) == 0 and grids:
        notes.append("The model is untrained: the images show its random initial state.")
    return dict(history=history, epoch_history=epochs, grids=grids, notes=notes)
