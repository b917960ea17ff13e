"""The data a ``VAETrainer`` trains on, read and prepared once, before any thread.

``read_data`` turns what a user passes (array, DataFrame, tensor, images) into one
flat float32 matrix, its image shape and feature names. ``prepare`` then settles
everything the data decide: the architecture and likelihood when they are "auto",
the standardisation, the classes of a conditional model, the train/validation split
and the model-space tensor the loop indexes. Every check happens here and raises
``ValueError``/``TypeError`` naming the argument and what to do, so a bad input never
reaches a worker thread. No model, no optimiser, no run state: those are the
trainer's.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Optional

import numpy as np
import torch

from .._validation import (MISSING_LABEL, _to_numpy, as_data_matrix, as_image_shape,
                           label_categories)
from . import visuals as _vis
from .config import VAEConfig

#: at most this many classes for ``conditional=True`` (more are continuous values)
MAX_CLASSES = 1000
#: bytes of temporaries per row block when the data are summarised
_BLOCK_BYTES = 8 << 20


def read_data(X: Any, image_shape):
    """(n, F) float matrix (a float32 or float64 array is used as it is, not copied), image
    shape (from the argument or X's own shape), feature names."""
    names = None
    if hasattr(X, "columns") and hasattr(X, "select_dtypes"):
        names = [str(c) for c in X.columns]
    arr = X
    if not (hasattr(X, "columns") and hasattr(X, "select_dtypes")):
        try:
            arr = _to_numpy(X, "X")
            if arr.dtype == object:
                arr = X
        except Exception:
            arr = X
    if isinstance(arr, np.ndarray) and arr.ndim > 2:
        if arr.ndim > 4:
            raise ValueError(f"X has shape {arr.shape}; pass (n, features), (n, H, W) or "
                             f"(n, C, H, W) images.")
        if image_shape is None:
            if arr.ndim == 4 and arr.shape[1] not in (1, 3) and arr.shape[-1] in (1, 3):
                raise ValueError(f"X has shape {arr.shape}, which looks channels-last; pass "
                                 f"(n, C, H, W): X.transpose(0, 3, 1, 2).")
            image_shape = tuple(arr.shape[1:])
        elif int(np.prod(arr.shape[1:])) != int(np.prod(tuple(image_shape))):
            raise ValueError(f"image_shape={tuple(image_shape)} holds "
                             f"{int(np.prod(tuple(image_shape)))} pixels but each image in X "
                             f"has shape {arr.shape[1:]}; pass image_shape={arr.shape[1:]}.")
        arr = arr.reshape(arr.shape[0], -1)
    M = as_data_matrix(arr, "X", keep_float32=True)
    return M, image_shape, names


def _blocks(n: int, nf: int):
    step = max(1, _BLOCK_BYTES // (4 * max(nf, 1)))
    return ((s, min(s + step, n)) for s in range(0, n, step))


def column_stats(data: np.ndarray, per_feature: bool):
    """Mean and standard deviation (per feature, or of all values), accumulated in float64
    over row blocks: no temporary bigger than a block (two passes; exact for any offset)."""
    n, nf = data.shape
    total = np.zeros(nf)
    for s, e in _blocks(n, nf):
        total += data[s:e].sum(0, dtype=np.float64)
    mean = total / n if per_feature else np.full(nf, total.sum() / (n * nf))
    centre = mean.astype(data.dtype)
    sq = np.zeros(nf)
    for s, e in _blocks(n, nf):
        d = data[s:e] - centre
        np.square(d, out=d)
        sq += d.sum(0, dtype=np.float64)
    var = sq / n if per_feature else np.full(nf, sq.sum() / (n * nf))
    return mean, np.sqrt(var)


def resolve_device(dev: str) -> torch.device:
    """``"auto"`` (a CUDA GPU when there is one), or a device torch has here."""
    if dev == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        d = torch.device(dev)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={dev!r} is not a device; use 'auto', 'cpu', 'cuda' or "
                         f"'cuda:0'.") from None
    if d.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={dev!r} but torch sees no CUDA GPU; use device='auto' "
                         f"(GPU when there is one) or device='cpu'.")
    if d.type == "mps" and not (hasattr(torch.backends, "mps")
                                and torch.backends.mps.is_available()):
        raise ValueError(f"device={dev!r} is not available here; use device='auto' or 'cpu'.")
    return d


def onehot(lab, classes: list, class_index: dict) -> torch.Tensor:
    """One row per label, one column per class (a label outside ``classes`` is refused)."""
    try:
        idx = np.asarray([class_index[v] for v in np.asarray(lab, dtype=object)])
    except KeyError as exc:
        raise ValueError(f"labels contains {exc.args[0]!r}, which is not one of the training "
                         f"classes {classes[:20]}.") from None
    except TypeError:
        raise TypeError("labels must be hashable class values (ints or strings).") from None
    return torch.nn.functional.one_hot(torch.as_tensor(idx, dtype=torch.int64),
                                       len(classes)).float()


@dataclasses.dataclass
class PreparedData:
    """What ``prepare`` settled; the trainer keeps these as its data attributes."""
    data: np.ndarray                 # flat (n, F) float32, data space
    labels: Any                      # raw labels or None
    classes: Optional[list]
    class_index: Optional[dict]
    image_shape: Optional[tuple]
    mean: np.ndarray                 # standardisation (zeros/ones without it)
    std: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray
    device: torch.device
    display: Any                     # visuals.Display: how rows are drawn
    X: torch.Tensor                  # all rows in model space, on the device
    train_idx_t: torch.Tensor
    val_idx_t: Optional[torch.Tensor]
    Y: Optional[torch.Tensor]        # one-hot classes (conditional models)
    Yval: Optional[torch.Tensor]

    @property
    def n_train(self) -> int:
        return len(self.train_idx)


def prepare(raw: np.ndarray, lab, cfg: VAEConfig, image_shape, names,
            norm: Optional[dict] = None, classes: Optional[list] = None) -> PreparedData:
    """Check and prepare ``raw`` (from ``read_data``) and its labels for ``cfg``.

    Resolves in ``cfg`` what was "auto" (``image_shape``, ``architecture``,
    ``likelihood``, ``standardize``). ``norm`` (``{"mean", "std"}``) and ``classes``
    come from a checkpoint, so a resumed run standardises and encodes as before.
    """
    n, nf = raw.shape
    image_shape = as_image_shape(image_shape, nf, "image_shape")
    cfg.image_shape = image_shape

    # --- architecture -----------------------------------------------------------------
    arch = cfg.architecture
    if arch == "auto":
        arch = "conv" if image_shape is not None else "mlp"
    if arch == "conv" and image_shape is None:
        raise ValueError("architecture='conv' needs image data: pass image_shape=(H, W) "
                         "or (C, H, W), or use architecture='mlp'.")
    cfg.architecture = arch

    # --- the data, once: float32 (n, F). A float32 input is used as it is (no copy:
    # changing it in place afterwards changes what the trainer holds) -------------------
    data = raw if raw.dtype == np.float32 else raw.astype(np.float32)
    del raw

    # --- likelihood and scaling -----------------------------------------------------------
    lo, hi = float(data.min()), float(data.max())
    in01 = lo >= 0.0 and hi <= 1.0
    lik = cfg.likelihood
    if lik == "auto":
        lik = "bernoulli" if in01 else "gaussian"
    if lik == "bernoulli" and not in01:
        raise ValueError(f"likelihood='bernoulli' needs data in [0, 1] but X spans "
                         f"[{lo:.4g}, {hi:.4g}]; rescale X (e.g. (X - X.min()) / "
                         f"(X.max() - X.min())) or use likelihood='gaussian'.")
    std_mode = cfg.standardize
    if std_mode == "auto":
        std_mode = lik != "bernoulli"
    if std_mode and lik == "bernoulli":
        raise ValueError("standardize=True cannot be used with likelihood='bernoulli' "
                         "(standardised data leave [0, 1]); use standardize=False or "
                         "likelihood='gaussian'.")
    cfg.likelihood, cfg.standardize = lik, bool(std_mode)

    stats = None
    if std_mode or (lik != "bernoulli" and image_shape is None):   # (also the display's)
        stats = column_stats(data, per_feature=image_shape is None)
    if norm is None:
        if std_mode:
            mean, std = stats
        else:
            mean, std = np.zeros(nf), np.ones(nf)
        std = np.where(std > 0, std, 1.0)
    else:
        mean, std = np.asarray(norm["mean"], np.float64), np.asarray(norm["std"], np.float64)

    # --- labels ---------------------------------------------------------------------------
    if cfg.conditional and lab is None:
        raise ValueError("conditional=True needs labels: pass labels=y (one class per row), "
                         "or use conditional=False.")
    if classes is None and lab is not None and cfg.conditional:
        # the condition is one class per row: every row needs one, and they must sort
        if label_categories(lab)[0][-1:] == [MISSING_LABEL]:
            raise ValueError("labels has missing values (None/NaN); conditional=True needs "
                             "a class for every row: fill them in or drop those rows.")
        try:
            classes = np.unique(lab).tolist()
        except TypeError:
            raise TypeError("labels mix types that cannot be sorted (e.g. numbers and "
                            "strings); convert them with labels.astype(str).") from None
    if cfg.conditional and len(classes) > MAX_CLASSES:
        raise ValueError(f"labels has {len(classes)} distinct values; conditional=True needs "
                         f"class labels (at most {MAX_CLASSES} classes), not continuous values.")
    if cfg.conditional and len(classes) < 2:
        raise ValueError("labels has a single class; conditional=True needs at least two.")
    class_index = {c: i for i, c in enumerate(classes)} if classes is not None else None

    # --- split ----------------------------------------------------------------------------
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(n)
    n_val = int(round(n * cfg.val_fraction))
    if cfg.val_fraction > 0:
        n_val = max(1, n_val)
    n_train = n - n_val
    if n_train < 2:
        raise ValueError(f"val_fraction={cfg.val_fraction} leaves {n_train} training rows "
                         f"of {n}; lower val_fraction.")
    if cfg.batch_size > n_train:
        raise ValueError(f"batch_size={cfg.batch_size} is larger than the {n_train} training "
                         f"rows ({n} rows minus {n_val} for validation); use "
                         f"batch_size <= {n_train}.")
    train_idx, val_idx = np.sort(order[n_val:]), np.sort(order[:n_val])

    device = resolve_device(cfg.device)
    display = _vis.Display.for_data(data, image_shape, lik == "bernoulli", names,
                                    range_=(lo, hi), stats=stats)

    # What the model sees: all rows in model space, indexed through the training rows'
    # positions (no second copy of them). Without standardisation on the CPU it *is* the
    # data (shared memory); otherwise one standardised float32 copy, made in place.
    # Peak for a 50k x 3,000 float32 input: see tests/vae/test_memory.py.
    dt = torch.float32
    with warnings.catch_warnings():       # a read-only input: torch never writes to it
        warnings.simplefilter("ignore", UserWarning)
        Xs = torch.from_numpy(data)
    if std_mode:   # the copy, standardised in place: no temporaries
        Xs = Xs.to(device, copy=True)
        Xs.sub_(torch.as_tensor(mean, dtype=dt, device=device))
        Xs.div_(torch.as_tensor(std, dtype=dt, device=device))
    train_idx_t = torch.as_tensor(train_idx, dtype=torch.int64, device=device)
    # validation rows are read through their positions too, a chunk at a time
    val_idx_t = torch.as_tensor(val_idx, dtype=torch.int64, device=device) if n_val else None
    Y = Yval = None
    if cfg.conditional:
        Y = onehot(lab, classes, class_index).to(device)
        Yval = Y[val_idx_t] if n_val else None
    return PreparedData(data=data, labels=lab, classes=classes, class_index=class_index,
                        image_shape=image_shape, mean=mean, std=std, train_idx=train_idx,
                        val_idx=val_idx, device=device, display=display, X=Xs.to(device),
                        train_idx_t=train_idx_t, val_idx_t=val_idx_t, Y=Y, Yval=Yval)
