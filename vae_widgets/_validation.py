"""Turn what users pass (numpy, pandas, torch, lists) into checked numpy arrays.

Every check raises before any thread starts, with a message that names the
argument, says what was wrong and what to do instead.
"""
from __future__ import annotations

import difflib
import numbers
import sys
from typing import Any, Iterable

import numpy as np


def _to_numpy(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    if is_torch_dataset(value):   # items x or (x, y): the x part (labels via split_labels)
        return dataset_arrays(value, name)[0]
    if hasattr(value, "select_dtypes") and hasattr(value, "columns"):  # pandas.DataFrame
        numeric = value.select_dtypes(include=[np.number, "bool"])
        dropped = [str(c) for c in value.columns if c not in numeric.columns]
        if dropped:
            raise TypeError(
                f"{name}: the DataFrame has non-numeric columns {dropped[:5]}"
                f"{' …' if len(dropped) > 5 else ''}; drop them or encode them as numbers "
                f"(e.g. df.drop(columns=[...]) or pd.get_dummies), or pick a label column "
                f"with labels='column name'.")
        # nullable integer columns hold pd.NA: read them as NaN so the finiteness check names them
        return numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    if hasattr(value, "to_numpy"):  # pandas.Series and friends
        return value.to_numpy()
    kind = type(value).__name__
    if kind in ("AnnData", "AnnDataView") and hasattr(value, "obsm"):
        raise TypeError(f"{name} is an AnnData: pass it to TSNEWidget or VAEWidget as it is "
                        f"(TSNEWidget(adata, use_rep='X_pca', color='...')), or pass an array "
                        f"such as adata.obsm['X_pca'] here.")
    if hasattr(value, "tocsr") and hasattr(value, "nnz"):
        raise TypeError(f"{name} is a scipy.sparse matrix: pass it to TSNEWidget or VAEWidget, "
                        f"which reduce it with TruncatedSVD, or reduce it yourself first "
                        f"(sklearn.decomposition.TruncatedSVD(50).fit_transform({name})).")
    if hasattr(value, "to_pandas") and not hasattr(value, "__array__"):   # pyarrow and friends
        return _to_numpy(value.to_pandas(), name)
    if not (isinstance(value, (list, tuple, range, numbers.Number, np.ndarray, np.generic))
            or hasattr(value, "__array__") or hasattr(value, "__array_interface__")
            or _has_buffer(value)):
        # (reading an unknown object element by element can take minutes before it fails)
        raise TypeError(f"{name} is of type {kind}, which is not an array, a table or a tensor; pass "
                        f"a 2-D numeric array (n_samples, n_features), a pandas DataFrame, a "
                        f"torch tensor or Dataset.")
    return np.asarray(value)


def _has_buffer(value: Any) -> bool:
    try:
        memoryview(value)
    except TypeError:
        return False
    return True


def is_torch_dataset(value: Any) -> bool:
    """True for a ``torch.utils.data.Dataset`` (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    data = getattr(getattr(torch, "utils", None), "data", None)
    return data is not None and isinstance(value, data.Dataset)


def dataset_arrays(ds: Any, name: str = "X") -> tuple[np.ndarray, np.ndarray | None]:
    """Read a map-style ``torch.utils.data.Dataset`` into memory.

    Items may be ``x`` or ``(x, y)`` (a 1-tuple ``(x,)`` too, as ``TensorDataset(X)``
    gives). Returns ``(X, y)``: the stacked ``x`` (n, *item shape) and the labels
    (n,) or None.
    """
    try:
        n = len(ds)
    except TypeError:
        raise TypeError(f"{name} is a torch Dataset without a length (an IterableDataset?); "
                        f"pass a map-style Dataset, or the tensors themselves "
                        f"(torch.cat of the batches).") from None
    if n == 0:
        raise ValueError(f"{name} is an empty Dataset; pass at least a few samples.")
    torch = sys.modules["torch"]
    if type(ds) is torch.utils.data.TensorDataset and len(ds.tensors) in (1, 2):
        # the tensors themselves: no per-item loop
        xs = _to_numpy(ds.tensors[0], name)
        if len(ds.tensors) == 1:
            return xs, None
        ys = _to_numpy(ds.tensors[1], "labels")
        if ys.ndim == 2 and ys.shape[1] == 1:
            ys = ys[:, 0]
        if ys.ndim != 1:
            raise ValueError(f"{name} yields (x, y) with y of shape {ys.shape[1:]}; labels "
                             f"must be one value per item (a class or a number).")
        return xs, ys
    xs, ys, kind = [], [], None
    for i in range(n):
        item = ds[i]
        if isinstance(item, (tuple, list)):
            if len(item) not in (1, 2):
                raise ValueError(f"{name}[{i}] is a tuple of {len(item)} items; a Dataset item "
                                 f"must be x or (x, y).")
            k = len(item)
        elif isinstance(item, dict):
            raise TypeError(f"{name}[{i}] is a dict; a Dataset item must be x or (x, y) "
                            f"(tensors or arrays).")
        else:
            k, item = 0, (item,)
        if kind is None:
            kind = k
        elif k != kind:
            raise ValueError(f"{name}[{i}] has a different structure from {name}[0]; every "
                             f"item must be x, or every item (x, y).")
        x = np.asarray(_to_numpy(item[0], name))
        if xs and x.shape != xs[0].shape:
            raise ValueError(f"{name}[{i}] has shape {x.shape} but {name}[0] has "
                             f"{xs[0].shape}; every item needs the same shape.")
        xs.append(x)
        if k == 2:
            y = item[1]
            ys.append(y.item() if hasattr(y, "item") and np.ndim(y) == 0 else y)
    y_arr = None
    if kind == 2:
        y_arr = np.asarray(ys)
        if y_arr.ndim != 1:
            raise ValueError(f"{name} yields (x, y) with y of shape {y_arr.shape[1:]}; labels "
                             f"must be one value per item (a class or a number).")
    return np.stack(xs), y_arr


def split_labels(X: Any, labels: Any, name: str = "X",
                 labels_name: str = "labels") -> tuple[Any, Any]:
    """Take labels out of the data where the user put them there.

    * ``labels="col"`` with a pandas DataFrame ``X``: the column becomes the labels
      and is dropped from ``X``.
    * a ``torch.utils.data.Dataset`` of ``(x, y)`` items: ``y`` becomes the labels,
      ``X`` the stacked ``x`` (a numpy array).

    Anything else is returned unchanged, for ``as_data_matrix`` / ``as_labels``.
    """
    if is_torch_dataset(X):
        arr, y = dataset_arrays(X, name)
        if y is not None and labels is not None:
            raise ValueError(f"{name} yields (x, y) pairs and {labels_name}= was given too; "
                             f"pass one of them.")
        return arr, (y if labels is None else labels)
    is_frame = hasattr(X, "columns") and hasattr(X, "select_dtypes")
    if isinstance(labels, str) or (is_frame and np.ndim(labels) == 0 and labels is not None):
        if not is_frame:
            raise TypeError(f"{labels_name}={labels!r} names a column, which needs {name} to be "
                            f"a pandas DataFrame; otherwise pass one label per row.")
        cols = list(X.columns)
        if labels not in cols:
            close = difflib.get_close_matches(str(labels), [str(c) for c in cols], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(repr(c) for c in cols[:12]) + (" …" if len(cols) > 12 else "")
            raise ValueError(f"{labels_name}={labels!r} is not a column of {name}.{hint} "
                             f"Columns: {shown}.")
        return X.drop(columns=[labels]), X[labels].to_numpy()
    return X, labels


def as_data_matrix(X: Any, name: str = "X", min_rows: int = 5,
                   keep_float32: bool = False) -> np.ndarray:
    """A finite float matrix of shape (n_samples, n_features), n_samples >= min_rows.

    float64, except that with ``keep_float32`` a float32 input stays float32 (no copy of
    a big input just to widen it). An input that already has the dtype is not copied.
    """
    if X is None:
        raise TypeError(f"{name} is None; pass a 2-D array of shape (n_samples, n_features).")
    try:
        arr = _to_numpy(X, name)
    except TypeError:
        raise
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} could not be read as an array ({exc}); pass a 2-D numeric "
                        f"array of shape (n_samples, n_features).") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}; convert it with "
                        f"np.asarray({name}, dtype=float) or drop the non-numeric columns.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} is complex; pass real numbers (e.g. np.abs({name}) or "
                        f"np.c_[{name}.real, {name}.imag]).")
    if arr.ndim != 2:
        hint = (f"reshape it with {name}.reshape(-1, 1) for one feature"
                if arr.ndim == 1 else
                f"flatten each sample, e.g. {name}.reshape(len({name}), -1)")
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}; "
                         f"{hint}.")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least {min_rows} rows "
                         f"and one column.")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} has {arr.shape[0]} rows; at least {min_rows} are needed.")
    arr = np.asarray(arr, dtype=np.float32 if keep_float32 and arr.dtype == np.float32
                     else np.float64)
    if not _all_finite(arr):
        bad = ~np.isfinite(arr)
        rows = np.flatnonzero(bad.any(axis=1))
        kind = "NaN" if np.isnan(arr[bad]).any() else "inf"
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite values ({kind}) in {len(rows)} rows "
            f"(first: {rows[:5].tolist()}); drop or impute them, e.g. "
            f"{name}[np.isfinite({name}).all(axis=1)].")
    return arr


def _all_finite(arr: np.ndarray, chunk_bytes: int = 32 * 2**20) -> bool:
    """Whether every value is finite, without an n x d temporary: a sum is finite when
    every value is (the common case, one pass); otherwise check in row blocks."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):
            return True
    step = max(1, chunk_bytes // max(1, arr.shape[1] * arr.itemsize))
    return all(np.isfinite(arr[i:i + step]).all() for i in range(0, len(arr), step))


def as_labels(labels: Any, n: int, name: str = "labels") -> np.ndarray | None:
    """A 1-D array of n labels (any dtype), or None."""
    if labels is None:
        return None
    arr = _to_numpy(labels, name) if not isinstance(labels, (list, tuple)) else np.asarray(labels, dtype=object)
    arr = np.asarray(arr)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one entry per row, got shape {arr.shape}.")
    if len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but the data has {n} rows; "
                         f"pass one label per row.")
    return arr


#: the category of missing labels (None, NaN, pd.NA, NaT), listed last
MISSING_LABEL = "(missing)"


def label_categories(labels: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The categories of ``labels`` (1-D) and each row's category code: the one rule for
    every widget that colours, groups or conditions on labels.

    Numbers come in numeric order, text in alphabetical order; a mix of types (text and
    numbers) in the order of their text. Missing entries (None, NaN, ``pd.NA``, NaT)
    form one category, ``MISSING_LABEL``, listed last, whatever else the labels hold.

    Returns ``(names, codes)``: the category names (str) and an int64 code per row.
    """
    import pandas as pd

    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {arr.shape}.")
    missing = (np.asarray(pd.isna(arr), dtype=bool) if arr.dtype.kind in "OfcmM"
               else np.zeros(len(arr), dtype=bool))
    present = arr[~missing]
    try:
        uniques, inverse = np.unique(present, return_inverse=True)
    except TypeError:   # values that do not compare (text and numbers): by their text
        uniques, inverse = np.unique(present.astype(str), return_inverse=True)
    names = [str(v) for v in uniques]
    codes = np.empty(len(arr), dtype=np.int64)
    codes[~missing] = inverse.reshape(-1)
    if missing.any():
        codes[missing] = len(names)
        names.append(MISSING_LABEL)
    return names, codes


def as_image_shape(image_shape: Any, n_features: int, name: str = "image_shape") -> tuple | None:
    """(H, W) or (C, H, W) whose product equals the number of columns, or None."""
    if image_shape is None:
        return None
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a tuple like (8, 8) or (3, 32, 32), got {image_shape!r}.") from None
    if len(shape) not in (2, 3) or any(s < 1 for s in shape):
        raise ValueError(f"{name} must be (H, W) or (C, H, W) with positive sizes, got {shape}.")
    if len(shape) == 3 and shape[0] not in (1, 3):
        raise ValueError(f"{name}={shape}: the channel count must be 1 or 3 (channels first).")
    if int(np.prod(shape)) != n_features:
        side = int(round(n_features ** 0.5))
        hint = f" (did you mean ({side}, {side})?)" if side * side == n_features else ""
        raise ValueError(f"{name}={shape} holds {int(np.prod(shape))} pixels but the data has "
                         f"{n_features} columns{hint}.")
    return shape


def did_you_mean(name, options: Iterable) -> str:
    """" Did you mean 'x'?" for the option closest to ``name``, or "" when none is close."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def listed(options: Iterable, k: int = 12) -> str:
    """The first ``k`` options, quoted, for a message ("'a', 'b', …")."""
    options = list(options)
    return ", ".join(repr(str(c)) for c in options[:k]) + (" …" if len(options) > k else "")


def unknown_name(name: str, allowed: Iterable[str], what: str) -> TypeError:
    """The error for a name that is not one of ``allowed``: the closest known name, if
    one is close, and every known one."""
    allowed = list(allowed)
    return TypeError(f"{what} {name!r}.{did_you_mean(name, allowed)} Known: {', '.join(allowed)}.")


def check_names(kwargs: dict, allowed: Iterable[str], where: str) -> None:
    """Refuse a keyword argument of ``where()`` that is not in ``allowed``."""
    allowed = list(allowed)
    for key in kwargs:
        if key not in allowed:
            raise unknown_name(key, allowed, f"{where}() got an unknown argument")


def choice(value: Any, name: str, options: Iterable[str]) -> str:
    options = list(options)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}={value!r} is not one of {options}.")
    return value


def number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
           integer: bool = False, low_open: bool = False) -> float | int:
    """A real number (or int) within bounds; bools are refused."""
    ok_type = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, ok_type):
        kind = "an integer" if integer else "a number"
        raise TypeError(f"{name} must be {kind}, got {value!r} ({type(value).__name__}).")
    if not integer and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}.")
    return int(value) if integer else float(value)


def page_value(name: str, value: Any, integer: bool = False) -> Any:
    """A parameter value as a page sends it (text or a float) turned into what Python
    expects: numbers from text, whole floats to ints where ``integer``; other text (a
    choice such as "auto" or "linear") and non-numbers pass through for the parameter's
    own check. A ValueError names the parameter."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            if any(c.isdigit() for c in text) or not text:
                raise ValueError(f"{name}: {value!r} is not a number.") from None
            return value
    if integer and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def moved_names(old_module: str, moved: dict):
    """A module ``__getattr__`` for names that moved: ``moved`` maps each old name to
    ``"new.module"`` or ``("new.module", "new_name")``; the old name still imports, with
    a DeprecationWarning that says where it went (kept for one release)."""
    import importlib
    import warnings

    def __getattr__(name):
        if name not in moved:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        target = moved[name]
        module, new = (target, name) if isinstance(target, str) else target
        warnings.warn(f"{old_module}.{name} moved to {module}.{new}; import it from there",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), new)
    return __getattr__
