"""Checkpoints of a ``VAETrainer``: what is written, how it is read safely, how a run resumes.

A checkpoint is a ``torch.save`` file holding only tensors, numbers, strings,
lists and dicts, so it loads with ``torch.load(weights_only=True)``: a file that
carries pickled Python objects (which could run code when unpickled) is refused
with :class:`UnsafeCheckpointError` before anything in it is used.

Contents: the trainer's ``state_dict()`` (weights, optimiser state, the loop's
position and generators, the monitor's histories and alert states, the factor probe,
each callback's state), plus what rebuilding it needs: config, model spec,
standardisation, classes, feature names and, by default, the data.

The file is written next to its target and moved over it only when complete
(``os.replace``), so a save that fails half-way (a full disk, an interrupt) leaves a
previous file intact. Labels are stored only as plain values (str, int, float,
bool, None); others (datetimes, objects) are refused before anything is written.

Version 3 stores ``state_dict()`` as it is; versions 1 and 2 (the trainer's fields
written one by one; version 1 without the factor probe and disentanglement
history) still load.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from typing import Any

import numpy as np
import torch

from .._validation import as_labels, split_labels
from . import data as _data
from .config import VAEConfig

FORMAT = "vae_widgets.vae.checkpoint"
VERSION = 3
#: label values a checkpoint can hold (weights_only refuses everything else)
_PLAIN_LABELS = (str, int, float, bool, type(None))


class UnsafeCheckpointError(ValueError):
    """A checkpoint holds pickled objects that could run code when loaded."""


def plain(v: Any) -> Any:
    """numpy values -> Python values, tuples -> lists (what ``weights_only`` accepts)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def write(trainer, path, include_data: bool = True) -> None:
    """Save everything needed to resume ``trainer`` (see the module docstring)."""
    t = trainer
    labels = None
    if include_data and t.labels is not None:
        labels = plain(t.labels)
        bad = next((v for v in labels if not isinstance(v, _PLAIN_LABELS)), None)
        if bad is not None:
            raise ValueError(f"the labels hold {type(bad).__name__} values (e.g. {bad!r}), which "
                             f"a checkpoint cannot store safely; save without them "
                             f"(include_data=False) or train with labels converted to text "
                             f"or numbers (e.g. labels.astype(str)).")
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "torch": str(torch.__version__),
        "config": t.config.to_dict(),
        "model_spec": plain(t._model.spec),
        "norm": {"mean": torch.from_numpy(t._mean.copy()),
                 "std": torch.from_numpy(t._std.copy())},
        "classes": plain(t.classes),
        "feature_names": t.feature_names,
        "trainer": t.state_dict(),
        "data": ({"X": torch.from_numpy(np.ascontiguousarray(t.data)), "labels": labels}
                 if include_data else None),
    }
    atomic_save(ckpt, path)


def atomic_save(obj, path) -> None:
    """``torch.save`` to a temporary file in the target's folder, then ``os.replace`` it
    over ``path``: the target is either the old file or the complete new one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".vae-ckpt-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, RuntimeError):
            # torch's zip writer reports a failed write (a full disk, a quota) as
            # RuntimeError('unexpected pos ...'): say what happened, as an OSError
            raise OSError(f"writing the checkpoint {path} failed (is the disk full?): {exc}; "
                          f"the file that was there before, if any, is unchanged") from exc
        raise


def read(path) -> dict:
    """Load a checkpoint with ``weights_only=True`` and check its format and version."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except OSError:
        raise
    except pickle.UnpicklingError as exc:
        lines = str(exc).strip().splitlines()
        detail = next((ln for ln in lines if "GLOBAL" in ln), None)
        if detail is None:
            raise ValueError(f"{path!s} could not be read as a checkpoint ({lines[-1]}); "
                             f"write one with VAETrainer.save(path).") from None
        raise UnsafeCheckpointError(
            f"refused to load {path!s}: it holds pickled Python objects that could run "
            f"code when unpickled, so it is not a vae_widgets checkpoint (or was tampered "
            f"with). {detail.strip()} Only load files you trust; re-create the checkpoint "
            f"with VAETrainer.save().") from None
    except Exception as exc:   # not a torch file at all (torch raises KeyError, EOFError...)
        raise ValueError(f"{path!s} could not be read as a checkpoint "
                         f"({type(exc).__name__}: {exc}); write one with "
                         f"VAETrainer.save(path).") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path!s} is not a vae_widgets VAE checkpoint (write one with "
                         f"VAETrainer.save(path)).")
    if ckpt.get("version", 0) > VERSION:
        raise ValueError(f"{path!s} was written by a newer vae_widgets (checkpoint version "
                         f"{ckpt['version']}); upgrade vae_widgets to load it.")
    return ckpt


def config_dict(ckpt: dict, device=None) -> dict:
    """The saved config with JSON lists turned back into the tuples ``VAEConfig`` holds."""
    cfgd = dict(ckpt["config"])
    if device is not None:
        cfgd["device"] = device
    for key in ("hidden", "conv_channels", "image_shape"):
        if cfgd.get(key) is not None:
            cfgd[key] = tuple(cfgd[key])
    if cfgd.get("interpolation_pairs") is not None:
        cfgd["interpolation_pairs"] = tuple(tuple(p) for p in cfgd["interpolation_pairs"])
    return cfgd


def trainer_state(ckpt: dict) -> dict:
    """The ``VAETrainer.state_dict()`` a checkpoint holds (versions 1 and 2 kept the same
    facts field by field: they are mapped onto it)."""
    if "trainer" in ckpt:
        return ckpt["trainer"]
    st = ckpt["state"]
    probe = ckpt.get("factor_probe")
    return {
        "model": ckpt["model"], "optimizer": ckpt["optimizer"],
        "loop": {k: st[k] for k in ("step", "epoch", "pos", "perm", "schedule_total", "gen",
                                    "sample_gen", "train_time")}
        | {"device_type": st.get("device_type")},
        "monitor": {
            "history": ckpt["history"], "epoch_history": ckpt["epoch_history"],
            "param_history": ckpt["param_history"], "alerts": ckpt["alerts"],
            "mig_history": ckpt.get("mig_history") or [], "last_kl": st["last_kl"],
            "stride": st["stride"], "row_counter": st["row_counter"],
            "overfit": st["overfit"], "collapse": st["collapse"],
            "diverge_first": st["diverge_first"], "factor_probe": probe},
        "callbacks": {},
    }


def state_dict(trainer) -> dict:
    """``VAETrainer.state_dict()``: weights, optimiser, the loop's position and
    generators, the monitor's histories and alert states, each callback's state."""
    return {
        "model": trainer._model.state_dict(),
        "optimizer": trainer._opt.state_dict(),
        "loop": {
            "step": trainer.step, "epoch": trainer.epoch, "pos": trainer._pos,
            "perm": None if trainer._perm is None else trainer._perm.cpu(),
            "schedule_total": trainer._schedule_total,
            "device_type": trainer.device.type,
            "gen": trainer._gen.get_state(), "sample_gen": trainer._sample_gen.get_state(),
            "train_time": trainer._train_time,
        },
        "monitor": trainer.monitor.state_dict(),
        "callbacks": {f"{type(cb).__name__}:{i}": cb.state_dict()
                      for i, cb in enumerate(trainer.callbacks)},
    }


def load_state_dict(trainer, state: dict) -> None:
    """``VAETrainer.load_state_dict()``: put a ``state_dict`` back (same data shape and
    config)."""
    trainer._model.load_state_dict(state["model"])
    trainer._opt.load_state_dict(state["optimizer"])
    st = state["loop"]
    trainer.step, trainer.epoch, trainer._pos = st["step"], st["epoch"], st["pos"]
    trainer._perm = None if st["perm"] is None else st["perm"].to(trainer.device)
    if trainer._perm is not None and len(trainer._perm) != trainer._n_train:  # other data
        trainer._perm, trainer._pos = None, 0
    trainer._schedule_total = st["schedule_total"]
    if st.get("device_type") == trainer.device.type:   # generator states are per device
        trainer._gen.set_state(st["gen"])
    trainer._sample_gen.set_state(st["sample_gen"])
    trainer._train_time = st["train_time"]
    trainer.monitor.load_state_dict(state["monitor"])
    saved = state.get("callbacks") or {}
    for i, cb in enumerate(trainer.callbacks):
        key = f"{type(cb).__name__}:{i}"
        if key in saved:
            cb.load_state_dict(saved[key])


def rebuild(cls, path, X=None, labels=None, device=None):
    """``VAETrainer.load()``: a trainer of class ``cls`` set up from the checkpoint at
    ``path`` (its data, or ``X``/``labels``), its state put back."""
    ckpt = read(path)
    cfg = VAEConfig.from_dict(config_dict(ckpt, device))
    if X is None:
        if ckpt.get("data") is None:
            raise ValueError(f"{path!s} was saved without data (include_data=False); pass "
                             f"the training data: VAETrainer.load(path, X=..., labels=...).")
        raw = ckpt["data"]["X"].numpy()
        lab = ckpt["data"]["labels"]
        lab = None if lab is None else np.asarray(lab)
        image_shape = cfg.image_shape
        names = ckpt.get("feature_names")
    else:
        X, labels = split_labels(X, labels)
        raw, image_shape, names = _data.read_data(X, cfg.image_shape)
        lab = as_labels(labels, raw.shape[0], "labels")
        if raw.shape[1] != ckpt["model_spec"]["n_features"]:
            raise ValueError(f"X has {raw.shape[1]} features but the checkpoint's model "
                             f"takes {ckpt['model_spec']['n_features']}.")
    trainer = cls.__new__(cls)
    norm = {"mean": ckpt["norm"]["mean"].numpy(), "std": ckpt["norm"]["std"].numpy()}
    trainer._setup(raw, lab, cfg, image_shape, names, norm=norm, classes=ckpt["classes"])
    trainer.load_state_dict(trainer_state(ckpt))
    return trainer
