"""Checkpoints of a ``VAETrainer``: what is written, how it is read safely, how a run resumes.

A checkpoint is a ``torch.save`` file holding only tensors, numbers, strings,
lists and dicts, so it loads with ``torch.load(weights_only=True)``: a file that
carries pickled Python objects (which could run code when unpickled) is refused
with :class:`UnsafeCheckpointError` before anything in it is used.

Contents: weights, optimiser state, config, model spec, standardisation, classes,
feature names, run state (step, epoch, position in the epoch's permutation, the
generators, monitors), histories (metrics, epochs, parameter changes, alerts,
disentanglement), the known-factor probe, and by default the data.

Version 2 added the factor probe and the disentanglement history; version 1 files
still load (without them).
"""
from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import torch

FORMAT = "vae_widgets.vae.checkpoint"
VERSION = 2


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
    """``torch.save`` everything needed to resume ``trainer`` (see the module docstring)."""
    t = trainer
    probe = t._probe
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "torch": str(torch.__version__),
        "config": t.config.to_dict(),
        "model_spec": plain(t._model.spec),
        "model": t._model.state_dict(),
        "optimizer": t._opt.state_dict(),
        "norm": {"mean": torch.from_numpy(t._mean.copy()),
                 "std": torch.from_numpy(t._std.copy())},
        "classes": plain(t.classes),
        "feature_names": t.feature_names,
        "state": {
            "step": t.step, "epoch": t.epoch, "pos": t._pos,
            "perm": None if t._perm is None else t._perm.cpu(),
            "schedule_total": t._schedule_total,
            "device_type": t.device.type,
            "gen": t._gen.get_state(), "sample_gen": t._sample_gen.get_state(),
            "train_time": t._train_time, "stride": t._stride,
            "row_counter": t._row_counter, "last_kl": t._last_kl,
            "overfit": {"train": list(t._overfit.train), "val": list(t._overfit.val),
                        "fired": t._overfit.fired},
            "collapse": {"counts": list(t._collapse.counts), "fired": t._collapse.fired},
            "diverge_first": t._diverge.first,
        },
        "history": plain(t._rows),
        "epoch_history": plain(t._epoch_rows),
        "param_history": plain(t._param_rows),
        "alerts": plain(t.alerts),
        "factor_probe": None if probe is None else {
            "rows": torch.from_numpy(np.asarray(probe.rows, dtype=np.int64)),
            "codes": torch.from_numpy(np.asarray(probe.codes, dtype=np.int64)),
            "names": list(probe.names), "bins": int(probe.bins)},
        "mig_history": plain(t._mig_rows),
        "data": ({"X": torch.from_numpy(t.data.copy()),
                  "labels": plain(t.labels) if t.labels is not None else None}
                 if include_data else None),
    }
    torch.save(ckpt, path)


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


def restore(trainer, ckpt: dict) -> None:
    """Put weights, optimiser, run state and histories of ``ckpt`` into a freshly set-up
    ``trainer`` (same data shape and config)."""
    t = trainer
    t._model.load_state_dict(ckpt["model"])
    t._opt.load_state_dict(ckpt["optimizer"])
    st = ckpt["state"]
    t.step, t.epoch, t._pos = st["step"], st["epoch"], st["pos"]
    t._perm = None if st["perm"] is None else st["perm"].to(t.device)
    if t._perm is not None and len(t._perm) != len(t._Xtr):   # other data: new permutation
        t._perm, t._pos = None, 0
    t._schedule_total = st["schedule_total"]
    if st.get("device_type") == t.device.type:   # generator states are per device type
        t._gen.set_state(st["gen"])
    t._sample_gen.set_state(st["sample_gen"])
    t._train_time = st["train_time"]
    t._stride, t._row_counter = st["stride"], st["row_counter"]
    t._last_kl = st["last_kl"]
    t._overfit.train = list(st["overfit"]["train"])
    t._overfit.val = list(st["overfit"]["val"])
    t._overfit.fired = st["overfit"]["fired"]
    t._collapse.counts = list(st["collapse"]["counts"])
    t._collapse.fired = st["collapse"]["fired"]
    t._diverge.first = st["diverge_first"]
    t._rows = list(ckpt["history"])
    t._epoch_rows = list(ckpt["epoch_history"])
    t._param_rows = list(ckpt["param_history"])
    t.alerts = list(ckpt["alerts"])
    probe = ckpt.get("factor_probe")
    if probe is not None and int(probe["rows"].max()) < len(t.data):
        t._use_probe(probe["rows"].numpy(), probe["codes"].numpy(), probe["names"],
                     probe["bins"])
    t._mig_rows = list(ckpt.get("mig_history") or [])
