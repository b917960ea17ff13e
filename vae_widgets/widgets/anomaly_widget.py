"""``AnomalyWidget``: a histogram of anomaly scores with a draggable threshold.

The kernel owns the decision: the front end (js/src/anomaly) draws the histogram
from the ``scores`` bytes and sets ``threshold`` when the line is dragged; this
module answers with ``selected`` (the indices above it), the metrics against the
true labels and the gallery of flagged samples. Any per-sample score works;
``anomalies(trainer, X)`` builds one from a trained VAE.
"""
from __future__ import annotations

import pathlib
import uuid

import numpy as np
import traitlets

from .._validation import _to_numpy, as_data_matrix, as_image_shape, number
from ..vae.visuals import Display
from ._base import BundledWidget
from ._serialization import array_trait

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
DEFAULT_QUANTILE = 0.95
GALLERY_ORDERS = ("highest", "threshold")
SCORE_TITLES = {"neg_elbo": "−ELBO (nats)", "reconstruction": "reconstruction (nats)",
                "kl": "KL (nats)", "neg_iwae": "−IWAE bound (nats)"}


def as_scores(scores, name: str = "scores") -> np.ndarray:
    """A finite float64 vector of at least two scores."""
    try:
        arr = np.asarray(_to_numpy(scores, name))
    except Exception as exc:
        raise TypeError(f"{name} could not be read as an array ({exc}); pass one number per "
                        f"sample.") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}.")
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one score per sample), got shape {arr.shape}; "
                         f"pick one column, e.g. df['neg_elbo'].")
    if len(arr) < 2:
        raise ValueError(f"{name} has {len(arr)} values; at least 2 are needed.")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ValueError(f"{name} has {len(bad)} non-finite values (first rows "
                         f"{bad[:5].tolist()}); drop those samples first.")
    return arr


def as_binary_labels(y_true, n: int, name: str = "y_true") -> np.ndarray | None:
    """``y_true`` as a bool vector of length ``n`` (True = anomaly), or None."""
    if y_true is None:
        return None
    arr = np.asarray(_to_numpy(y_true, name))
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one 0/1 per sample), got shape {arr.shape}.")
    if len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but there are {n} scores; pass one "
                         f"0/1 (or True/False) per sample.")
    if arr.dtype == bool:
        return arr
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be binary numbers or booleans (1/True = anomaly), got "
                        f"dtype {arr.dtype}; convert it, e.g. y_true = (labels == 'fraud').")
    finite = np.isfinite(arr)
    values = np.unique(arr[finite])
    if not finite.all() or not set(values.tolist()) <= {0, 1}:
        raise ValueError(f"{name} must be binary (1 = anomaly, 0 = normal), got values "
                         f"{values[:6].tolist()}{' …' if len(values) > 6 else ''}; e.g. "
                         f"y_true = (y == 9).")
    return arr.astype(bool)


def threshold_metrics(scores: np.ndarray, truth: np.ndarray | None, threshold: float) -> dict:
    """Counts above ``threshold`` and, with ``truth``, precision / recall / F1 there.

    Undefined values (precision with nothing flagged, recall with no anomalies) are None.
    """
    flagged = scores > threshold
    out = {"n": int(len(scores)), "n_flagged": int(flagged.sum()),
           "fraction_flagged": float(flagged.mean())}
    if truth is None:
        return out
    tp = int((flagged & truth).sum())
    fp = int((flagged & ~truth).sum())
    fn = int((~flagged & truth).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision is not None and recall is not None and precision + recall > 0 else
          (0.0 if precision is not None and recall is not None else None))
    out.update(tp=tp, fp=fp, fn=fn, tn=int(len(scores) - tp - fp - fn),
               precision=precision, recall=recall, f1=f1)
    return out


def ranking_metrics(scores: np.ndarray, truth: np.ndarray | None) -> dict:
    """Threshold-free AUROC and average precision (None when ``truth`` has one class)."""
    if truth is None:
        return {}
    if truth.all() or not truth.any():
        return {"auroc": None, "average_precision": None,
                "n_anomalies": int(truth.sum())}
    from sklearn.metrics import average_precision_score, roc_auc_score
    return {"auroc": float(roc_auc_score(truth, scores)),
            "average_precision": float(average_precision_score(truth, scores)),
            "n_anomalies": int(truth.sum())}


class AnomalyWidget(BundledWidget):
    """Anomaly scores: histogram, draggable threshold, flagged samples, metrics.

    Parameters
    ----------
    scores : array-like, (n,)
        One score per sample, higher = more anomalous (e.g. a negative ELBO).
    X : array-like, optional
        The samples, (n, n_features) or images (n, H, W) / (n, C, H, W): shown in
        the gallery (pixel grids for images, one colour strip per row otherwise).
    y_true : array-like of 0/1 or bool, optional
        True anomaly labels: precision, recall and F1 at the threshold and the
        threshold-free AUROC / average precision are shown, and the histogram
        splits normal and anomalous samples.
    image_shape : tuple, optional
        (H, W) or (C, H, W) when ``X`` is flat image rows.
    threshold : float, optional
        Initial threshold (default: the 95th percentile of ``scores``). Samples
        with a score strictly above it are flagged.
    n_gallery : int, default 24
        How many flagged samples the gallery shows.
    gallery_order : {"highest", "threshold"}, default "highest"
        Show the highest-scoring flagged samples, or the flagged samples closest
        to the threshold (the borderline cases).
    score_name : str, optional
        Axis title (default: the Series name of ``scores`` or "score").
    reconstruct : callable, optional
        ``reconstruct(rows, indices) -> rows``: data-space reconstructions of the
        gallery's samples (``rows = X[indices]``, flat), shown under each one
        (``anomalies`` passes the VAE's).
    feature_names : list of str, optional
        Column names shown in the gallery's tooltips for tabular data.

    Attributes
    ----------
    threshold : float
        Synced: dragging the line in the histogram sets it; setting it from
        Python moves the line.
    selected : list of int
        Indices whose score is above ``threshold`` (read-only, follows it).
    metrics : dict
        ``n``, ``n_flagged``, ``fraction_flagged``; with ``y_true`` also ``tp``,
        ``fp``, ``fn``, ``tn``, ``precision``, ``recall``, ``f1`` (None when
        undefined), ``auroc``, ``average_precision``, ``n_anomalies``.
    """

    _esm = STATIC / "anomaly.js"
    _css = STATIC / "anomaly.css"

    _uid = traitlets.Unicode("").tag(sync=True)
    scores = array_trait("float32")
    truth = array_trait("uint8")
    score_name = traitlets.Unicode("score").tag(sync=True)
    info = traitlets.Unicode("").tag(sync=True)
    threshold = traitlets.Float(0.0).tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    metrics = traitlets.Dict().tag(sync=True)
    log_count = traitlets.Bool(False).tag(sync=True)
    bins = traitlets.Int(50).tag(sync=True)
    n_gallery = traitlets.Int(24).tag(sync=True)
    gallery_order = traitlets.Unicode("highest").tag(sync=True)
    gallery = array_trait("uint8")
    gallery_recon = array_trait("uint8")
    gallery_items = traitlets.List(traitlets.Dict()).tag(sync=True)
    gallery_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    gallery_layout = traitlets.Unicode("").tag(sync=True)     # "image" | "features" | ""
    gallery_scale = traitlets.Unicode("linear").tag(sync=True)

    def __init__(self, scores, X=None, y_true=None, *, image_shape=None, threshold=None,
                 n_gallery: int = 24, gallery_order: str = "highest", score_name=None,
                 reconstruct=None, feature_names=None, info: str = ""):
        name = score_name if score_name is not None else getattr(scores, "name", None)
        s = as_scores(scores)
        truth = as_binary_labels(y_true, len(s))
        n_gallery = number(n_gallery, "n_gallery", low=1, high=500, integer=True)
        if gallery_order not in GALLERY_ORDERS:
            raise ValueError(f"gallery_order={gallery_order!r} is not one of "
                             f"{list(GALLERY_ORDERS)}.")
        if reconstruct is not None and not callable(reconstruct):
            raise TypeError("reconstruct must be a function (rows, indices) -> reconstructed "
                            "rows.")
        self._scores = s
        self._truth = truth
        self._rows, self._display = self._gallery_source(X, len(s), image_shape, feature_names)
        self._reconstruct = reconstruct if self._rows is not None else None
        self._ranking = ranking_metrics(s, truth)
        t0 = float(np.quantile(s, DEFAULT_QUANTILE)) if threshold is None else \
            _finite(threshold, "threshold")
        disp = self._display
        super().__init__(
            _uid=uuid.uuid4().hex, scores=s.astype(np.float32),
            truth=None if truth is None else truth.astype(np.uint8),
            score_name=SCORE_TITLES.get(str(name), str(name)) if name is not None else "score",
            n_gallery=n_gallery, gallery_order=gallery_order, threshold=t0,
            gallery_shape=list(disp.cell_shape) if disp else [],
            gallery_layout=disp.layout if disp else "",
            gallery_scale=disp.scale if disp else "linear",
            info=info or self._describe(name))
        self._update()

    # ------------------------------------------------------------ traits
    @traitlets.validate("threshold")
    def _check_threshold(self, proposal):
        return _finite(proposal["value"], "threshold")

    @traitlets.validate("gallery_order")
    def _check_order(self, proposal):
        if proposal["value"] not in GALLERY_ORDERS:
            raise traitlets.TraitError(f"gallery_order must be one of {list(GALLERY_ORDERS)}, "
                                       f"got {proposal['value']!r}.")
        return proposal["value"]

    @traitlets.validate("n_gallery")
    def _check_n_gallery(self, proposal):
        return number(proposal["value"], "n_gallery", low=1, high=500, integer=True)

    @traitlets.observe("threshold", "gallery_order", "n_gallery")
    def _on_change(self, _change):
        if hasattr(self, "_scores"):
            self._update()

    # ------------------------------------------------------------ public API
    @property
    def scores_array(self) -> np.ndarray:
        """The scores as float64 (the ``scores`` trait holds the float32 copy sent to the view)."""
        return self._scores

    def set_quantile(self, q: float) -> float:
        """Put the threshold at the ``q`` quantile of the scores (flag about ``1 - q``);
        returns the new threshold."""
        q = number(q, "q", low=0, high=1)
        self.threshold = float(np.quantile(self._scores, q))
        return self.threshold

    def __repr__(self):
        m = self.metrics
        return (f"AnomalyWidget(n={m.get('n')}, threshold={self.threshold:.4g}, "
                f"flagged={m.get('n_flagged')})")

    # ------------------------------------------------------------ helpers
    def _update(self):
        s, t = self._scores, float(self.threshold)
        flagged = np.flatnonzero(s > t)
        metrics = threshold_metrics(s, self._truth, t) | self._ranking
        # flagged, ordered: highest score first, or nearest the threshold first
        order = flagged[np.argsort(-s[flagged] if self.gallery_order == "highest" else s[flagged],
                                   kind="stable")]
        shown = order[:self.n_gallery]
        items = [{"index": int(i), "score": float(s[i]),
                  "truth": None if self._truth is None else bool(self._truth[i])} for i in shown]
        pixels = recon = None
        if self._rows is not None and len(shown):
            rows = self._rows[shown]
            pixels = self._display.to_uint8(rows, 1, len(shown)).reshape(-1)
            if self._reconstruct is not None:
                rec = np.asarray(self._reconstruct(rows, shown), dtype=np.float64)
                rec = rec.reshape(len(shown), -1)
                recon = self._display.to_uint8(rec, 1, len(shown)).reshape(-1)
        with self.hold_sync():
            self.selected = flagged.tolist()
            self.metrics = metrics
            self.gallery_items = items
            self.gallery = pixels
            self.gallery_recon = recon

    @staticmethod
    def _gallery_source(X, n, image_shape, feature_names):
        if X is None:
            return None, None
        names = [str(c) for c in X.columns] if hasattr(X, "columns") else feature_names
        arr = _to_numpy(X, "X") if not hasattr(X, "columns") else X
        if isinstance(arr, np.ndarray) and arr.ndim in (3, 4):
            if image_shape is None:
                image_shape = arr.shape[1:]
            arr = arr.reshape(arr.shape[0], -1)
        M = as_data_matrix(arr, "X", min_rows=1)
        if len(M) != n:
            raise ValueError(f"X has {len(M)} rows but there are {n} scores; pass the samples "
                             f"that were scored, in the same order.")
        shape = as_image_shape(image_shape, M.shape[1], "image_shape")
        in01 = M.min() >= 0.0 and M.max() <= 1.0
        return M, Display.for_data(M, shape, in01, names)

    def _describe(self, name) -> str:
        s = self._scores
        what = SCORE_TITLES.get(str(name), str(name) if name is not None else "score")
        text = f"{len(s):,} samples · score: {what}, higher = more anomalous"
        if self._truth is not None:
            text += f" · {int(self._truth.sum()):,} labelled anomalies"
        return text


def _finite(v, name: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {v!r}.") from None
    if not np.isfinite(f):
        raise ValueError(f"{name} must be a finite number, got {v!r}.")
    return f


def anomalies(trainer, X, y_true=None, score: str = "neg_elbo", *, labels=None,
              n_samples: int = 1, z: str = "sample", seed: int = 0, threshold=None,
              n_gallery: int = 24, gallery_order: str = "highest") -> AnomalyWidget:
    """Score ``X`` with a trained VAE and show the scores in an :class:`AnomalyWidget`.

    Parameters
    ----------
    trainer : VAETrainer
        Trained on normal data.
    X : array-like
        Samples to score (same layout and scaling as the training data).
    y_true : array-like of 0/1 or bool, optional
        1 = true anomaly: adds precision / recall / F1 at the threshold and AUROC.
    score : {"neg_elbo", "reconstruction", "kl", "neg_iwae"}, default "neg_elbo"
        The column of :func:`vae_widgets.vae.anomaly.anomaly_scores` to use
        (``"neg_iwae"`` needs ``n_samples > 1``).
    labels, n_samples, z, seed
        Passed to :func:`~vae_widgets.vae.anomaly.anomaly_scores`.
    threshold, n_gallery, gallery_order
        As for :class:`AnomalyWidget`.

    Returns
    -------
    AnomalyWidget
        Its ``table`` attribute holds the full score DataFrame.
    """
    from ..vae.anomaly import SCORE_COLUMNS, anomaly_scores

    allowed = SCORE_COLUMNS + ("neg_iwae",)
    if score not in allowed:
        raise ValueError(f"score={score!r} is not one of {list(allowed)}.")
    if score == "neg_iwae" and number(n_samples, "n_samples", low=1, integer=True) < 2:
        raise ValueError("score='neg_iwae' needs several posterior samples: pass n_samples=16 "
                         "(or more).")
    table = anomaly_scores(trainer, X, labels, n_samples=n_samples, z=z, seed=seed)
    truth = as_binary_labels(y_true, len(table))
    cond = None
    if trainer.conditional:   # the gallery's rows need their own class labels
        cond = np.asarray(table["label"], dtype=object)

    def reconstruct(rows, indices):
        return trainer.reconstruct(rows, labels=None if cond is None else list(cond[indices]))

    w = AnomalyWidget(table[score], X, truth, image_shape=trainer.image_shape,
                      threshold=threshold, n_gallery=n_gallery, gallery_order=gallery_order,
                      score_name=score, reconstruct=reconstruct,
                      feature_names=trainer.feature_names)
    w.table = table
    return w
