"""``VAEMonitor``: what a VAE in training looks like, computed in one place for every producer.

A *producer* trains the model: the built-in ``VAETrainer``, a user's own loop
(``LoopMonitor.log``, what ``VAEWidget.watch`` hands out), a Lightning run. It
feeds the monitor per-step terms and calls it at row, epoch and image boundaries;
the monitor turns them into the events every view draws. Nothing here knows about
Jupyter, and nothing here trains.

Hot path: ``window.append((recon, klpd))`` per step, with detached device tensors
(no sync, no copy). ``klpd`` may also be a ``(mu, logvar)`` pair, turned into the
per-dimension KL when the row is made. ``close_row`` (every ``metrics_every`` steps)
stacks the window and copies it to the host once: the only sync.

The model is reached through a *source*: an object with the data-space methods
of :class:`~vae_widgets.vae.dataspace.DataSpaceMixin` (``encode``, ``decode``,
``reconstruct``, ``sample``) and ``data``, ``labels``, ``conditional``,
``classes``, ``display``, ``latent_dim`` and a ``rendering()`` context (eval mode
and no gradients for as long as grids are drawn). ``VAETrainer`` is one;
``ModelAdapter`` wraps a user's model.

Events (``monitor.events``, an ``EventBus``; every ``data`` field listed):

* ``"status"``: ``state`` (running | paused | done | stopped | error),
  ``epoch`` (float: epochs completed, fractional mid-epoch), ``step``,
  ``target_epoch`` (where the current run stops; NaN when unknown), ``reason``
  (str or None: "stop requested", "diverged", "interrupted", the error message).
* ``"metrics"``: ``rows``: a list of row dicts, sent at most every
  ``publish_every`` seconds and at epoch ends, pauses and the end. Row keys
  (``METRIC_COLUMNS``): ``step`` (steps done), ``epoch`` (float), ``time``
  (training seconds), ``elbo`` (= -(recon + kl), nats per data point),
  ``loss`` (what is minimised: recon + beta * KL, with free bits), ``recon``,
  ``kl``, ``kl_per_dim`` (list of latent_dim floats) — all averaged over the
  steps since the previous row — ``active_units`` (on the row's last batch),
  ``grad_norm`` (last step, before clipping; NaN when not known), ``lr``,
  ``beta`` (effective: beta times the schedule factor).
* ``"epoch"``: one row as keyword fields (``EPOCH_COLUMNS``): ``epoch`` (int),
  ``step``, ``time``, ``train_elbo``/``train_recon``/``train_kl`` (means over
  the epoch's steps), ``val_elbo``/``val_recon``/``val_kl``/``val_kl_per_dim``
  (validation rows, fixed noise; NaN without a validation set or a
  reconstruction term), ``active_units`` (validation rows), ``beta``, ``lr``.
  Epochs that do not validate (see ``val_every``) carry NaN validation terms and
  active units (``val_kl_per_dim`` None).
* ``"images"``: ``grid`` (reconstructions | samples | traversal | interpolation),
  ``array`` (uint8, ``(rows, cols, C, H, W)``), ``labels`` (dict, see
  ``visuals``), ``step``, ``epoch``.
* ``"alert"``: ``alert`` (collapse | divergence | overfitting | nonfinite),
  ``message``, ``fix``, ``step``, ``epoch``. (``monitor.alerts`` keeps them as
  dicts with ``kind``, ``message``, ``fix``, ``step``, ``epoch``.)
* ``"params"``: ``step``, ``epoch``, ``changes`` ({name: new value}),
  ``previous`` ({name: old value}).
* ``"disentanglement"`` (only with factors, after each epoch): ``epoch``,
  ``step``, ``mig``, ``gaps`` (per factor), ``mi`` and ``mi_normalized``
  (lists, latent dim x factor), ``entropy`` (per factor), ``factors`` (names),
  ``seconds`` (cost of the measurement).
* ``"error"``: ``message``, ``traceback``.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from .._stream import EventBus
from .._validation import label_categories, moved_names
from . import disentangle as _dis
from .checkpoint import plain
from . import visuals as _vis
from .config import MonitorConfig
from .diagnostics import CollapseMonitor, DivergenceMonitor, OverfitMonitor, UnitsMonitor
from .history import HistoryTables
from . import window as _window

#: with val_every="auto", validate every epoch once an epoch has this many training rows
VAL_MIN_ROWS = 4096
#: ... and at least every this many epochs (the curves and alerts need validation points)
VAL_MAX_GAP = 5

_NAN = float("nan")


class VAEMonitor(HistoryTables):
    """Diagnostics and events of a VAE in training; see the module docstring.

    Parameters
    ----------
    source
        The data-space view of the model (``VAETrainer``, ``ModelAdapter``).
    config : MonitorConfig
        What is measured and how often (``VAEConfig`` is one).
    visual_pool : sequence of int
        Rows of ``source.data`` the grids draw from (validation rows first).
    events : EventBus, optional
        Where events go (a new bus by default).
    """

    def __init__(self, source, config: MonitorConfig, visual_pool: Sequence[int],
                 events: Optional[EventBus] = None):
        self.source = source
        self.config = config
        self.events = events if events is not None else EventBus()
        #: per-step terms since the last row; producers append ``(recon, klpd)`` here
        self.window: list = []
        self.rows: list[dict] = []          # decimated history (at most history_max_rows)
        self.epoch_rows: list[dict] = []
        self.param_rows: list[dict] = []
        self.alerts: list[dict] = []
        self.mig_rows: list[dict] = []
        self.last_kl: Optional[list] = None
        self._row_buf: list[dict] = []
        self._row_counter = 0
        self._stride = 1
        self._last_pub = time.perf_counter()
        self._ep = [0.0, 0.0, 0]             # sum recon, sum kl, steps (this epoch)
        self._visuals_requested = False
        self._next_visual = 0.0
        d = source.latent_dim
        self.collapse = CollapseMonitor(d, config.collapse_fraction, config.collapse_patience)
        self.overfit = OverfitMonitor(config.overfit_patience)
        self.units = UnitsMonitor()
        self.batch_rows: Optional[int] = None      # rows of the last batch seen (mu)
        self.diverge = DivergenceMonitor(config.diverge_factor)
        self.probe: Optional[_dis.FactorProbe] = None
        self._pick_visual_rows(list(visual_pool))

    # ==================================================================================
    # rows
    # ==================================================================================
    def close_row(self, *, step: int, progress: float, time: float, beta: float, lr: float,
                  mu: Optional[torch.Tensor] = None, grad_norms: Optional[list] = None,
                  free_bits: float = 0.0) -> tuple[Optional[dict], Optional[str]]:
        """Turn the window into one metrics row; returns ``(row, None)``, or ``(None,
        reason)`` when the numbers are unhealthy (NaN/inf, or a loss far above its
        start): then no row is kept, the window is dropped and the producer decides what
        to do.

        Window entries are ``(recon, klpd)``: ``recon`` a 0-d tensor (or a per-sample
        tensor, or a float), ``klpd`` the batch-mean KL per dimension (D,) or a ``(mu,
        logvar)`` pair. ``mu``: the last batch's posterior means (active units);
        ``grad_norms``: per-tensor gradient norms (0-d tensors or floats) of the last
        step, or None. Two stacks are copied to the host; the sums are done in Python
        on the host copies (cheaper than more small torch ops).
        """
        window, self.window = self.window, []
        w = len(window)
        if w == 0:
            return None, None
        recons, klpds = zip(*window)
        gn = tuple(grad_norms) if grad_norms is not None else ()
        with torch.no_grad():
            if isinstance(klpds[0], tuple):   # (mu, logvar) pairs from a user's loop
                klpds = _window.kl_rows(klpds)
            dev = klpds[0].device
            parts = [_window.recon_means(recons, dev)]
            if gn:
                parts.append(_window.scalars(gn, dev))
            scalars = torch.cat(parts).tolist()
            extra = (mu.detach().var(0, unbiased=False),) if mu is not None and len(mu) > 1 \
                else ()
            if mu is not None:
                self.batch_rows = int(mu.shape[0])
            rows = torch.stack(klpds + extra).tolist()
        recon_sum = sum(scalars[:w])
        recon = recon_sum / w
        grad_norm = math.sqrt(sum(v * v for v in scalars[w:])) if gn else _NAN
        klpd = [s / w for s in map(sum, zip(*rows[:w]))]
        active = (sum(v > self.config.active_threshold for v in rows[w]) if extra else None)
        kl = float(sum(klpd))
        kl_obj = sum(max(free_bits, k) for k in klpd) if free_bits > 0 else kl
        loss = recon + beta * kl_obj
        # finiteness of the sums covers every term: one NaN or inf makes its sum non-finite
        checked = [recon_sum, kl] + ([grad_norm] if gn else []) + ([sum(rows[w])] if extra else [])
        reason = self.diverge.check(checked, loss)
        if reason is not None:
            return None, reason
        self._ep[0] += recon_sum
        self._ep[1] += kl * w
        self._ep[2] += w
        self.last_kl = klpd
        row = {"step": step, "epoch": progress, "time": time, "elbo": -(recon + kl),
               "loss": loss, "recon": recon, "kl": kl, "kl_per_dim": klpd,
               "active_units": int(active) if active is not None else None,
               "grad_norm": grad_norm, "lr": lr, "beta": beta}
        self._add_row(row)
        if time_now() - self._last_pub >= self.config.publish_every:
            self.flush_rows()
        return row, None

    def _add_row(self, row: dict):
        self._row_buf.append(row)
        self._row_counter += 1
        if self._row_counter % self._stride == 0:
            self.rows.append(row)
            if len(self.rows) > self.config.history_max_rows:
                self.rows = self.rows[::2]
                self._stride *= 2

    def flush_rows(self):
        """Publish the rows made since the last ``"metrics"`` event."""
        self._last_pub = time_now()
        if self._row_buf:
            rows, self._row_buf = self._row_buf, []
            self.events.publish("metrics", rows=rows)

    def drop_window(self):
        self.window = []

    # ==================================================================================
    # epochs
    # ==================================================================================
    def validation_interval(self, train_rows: int) -> int:
        """Epochs between validation passes: ``val_every``, with "auto" resolved."""
        k = self.config.val_every
        if k == "auto":
            k = min(max(1, math.ceil(VAL_MIN_ROWS / max(train_rows, 1))), VAL_MAX_GAP)
        return k

    def validation_due(self, epoch: int, train_rows: int, last: bool) -> bool:
        """Validate after epochs 1, 1 + k, 1 + 2k, ... (k = ``validation_interval``) and
        always after the last epoch of a run."""
        return (epoch - 1) % self.validation_interval(train_rows) == 0 or last

    def end_epoch(self, *, epoch: int, step: int, time: float, beta: float, lr: float,
                  validation: Optional[dict], grace_over: bool = True,
                  has_val_set: bool = True) -> dict:
        """Close epoch ``epoch``: the epoch row (published), disentanglement, and the
        collapse and overfitting alerts from ``validation`` (a dict of ``elbo``,
        ``recon``, ``kl``, ``kl_per_dim``, ``active_units``; None when this epoch does
        not validate). ``grace_over``: the KL warm-up and its grace period have passed
        (collapse may be judged). ``has_val_set``: the validation terms are held-out
        rows (otherwise the ELBO columns stay NaN and no overfitting is judged)."""
        ep_recon, ep_kl, ep_n = self._ep
        self._ep = [0.0, 0.0, 0]
        train_recon = ep_recon / max(ep_n, 1)
        train_kl = ep_kl / max(ep_n, 1)
        ev = validation or {"elbo": _NAN, "recon": _NAN, "kl": _NAN, "kl_per_dim": None,
                            "active_units": _NAN}
        row = {"epoch": epoch, "step": step, "time": time,
               "train_elbo": -(train_recon + train_kl), "train_recon": train_recon,
               "train_kl": train_kl, "val_elbo": ev["elbo"], "val_recon": ev["recon"],
               "val_kl": ev["kl"], "val_kl_per_dim": ev["kl_per_dim"],
               "active_units": ev["active_units"], "beta": beta, "lr": lr}
        if not has_val_set:
            row.update(val_elbo=_NAN, val_recon=_NAN, val_kl=_NAN)
        self.epoch_rows.append(row)
        self.flush_rows()
        self.events.publish("epoch", **row)
        if self.probe is not None:
            self.measure_factors(epoch, step)
        if validation is None:
            return row
        if ev["kl_per_dim"] is not None:
            self.last_kl = ev["kl_per_dim"]
        a = self.collapse.update(ev["active_units"], grace_over, beta)
        if a:
            self.alert(a, step, epoch)
        if has_val_set and math.isfinite(row["val_elbo"]):
            a = self.overfit.update(-row["train_elbo"], -row["val_elbo"])
            if a:
                self.alert(a, step, epoch)
        if math.isfinite(row["val_recon"]):
            a = self.units.update(train_recon, row["val_recon"], self.batch_rows)
            if a:
                self.alert(a, step, epoch)
        return row

    # ==================================================================================
    # image grids
    # ==================================================================================
    def _pick_visual_rows(self, pool: list):
        labels = self.source.labels
        k = self.config.n_reconstructions
        if labels is not None:
            codes = label_categories(np.asarray(labels))[1]   # (missing labels: one category)
            seen, first, rest = set(), [], []
            for i in pool:
                key = codes[i]
                (rest if key in seen else first).append(int(i))
                seen.add(key)
            ordered = first + rest
        else:
            ordered = [int(i) for i in pool]
        self.recon_rows = ordered[:k]
        self.default_base = ordered[0]
        m = min(len(ordered), 6)
        self.default_pairs = [(ordered[i], ordered[i + 1]) for i in range(0, m - 1, 2)] or \
            [(ordered[0], ordered[0])]

    def reset_visual_clock(self, now: float):
        self._next_visual = (now + self.config.visuals_every
                             if self.config.visuals_every is not None else math.inf)

    def request_visuals(self):
        """Draw the grids before the next step (a visual parameter changed)."""
        self._visuals_requested = True

    def visuals_due(self, now: float) -> bool:
        return self._visuals_requested or now >= self._next_visual

    def render(self, kinds: Sequence[str] = _vis.KINDS, *, step: int, progress: float,
               publish: bool = True, scheduled: bool = False,
               until: Optional[Callable[[], bool]] = None) -> dict:
        """Compute image grids now: ``{kind: (uint8 array, labels)}``; publish them as
        ``"images"`` events. ``scheduled``: drawn by the training thread on the clock
        (the next one is due ``visuals_every`` seconds later). ``until``: asked before
        each grid; once it says True the rest are left out (a Stop
        pressed while the training thread draws: the run's last grids come at its end,
        and a grid of a loaded machine takes a tenth of a second or more)."""
        cfg = self.config
        self._visuals_requested = False
        if scheduled:
            self.reset_visual_clock(time_now())
        out = {}
        decodes = getattr(self.source, "can_decode", True)   # (a user's model may not)
        with self.source.rendering():
            for kind in kinds:
                if not decodes and kind in ("samples", "traversal", "interpolation"):
                    continue
                if until is not None and until():
                    break
                if kind == "reconstructions":
                    out[kind] = _vis.reconstructions(self.source, self.recon_rows)
                elif kind == "samples":
                    out[kind] = _vis.samples(self.source, cfg.n_samples, cfg.sample_temperature,
                                             seed=getattr(cfg, "seed", 0))
                elif kind == "traversal":
                    base = cfg.traverse_base if cfg.traverse_base is not None \
                        else self.default_base
                    out[kind] = _vis.traversal(self.source, base, self.last_kl,
                                               cfg.traversal_steps, cfg.traversal_range,
                                               cfg.max_traversal_dims)
                elif kind == "interpolation":
                    pairs = cfg.interpolation_pairs or self.default_pairs
                    out[kind] = _vis.interpolation(self.source, pairs, cfg.interpolation_steps)
                else:
                    raise ValueError(f"kinds: {kind!r} is not one of {list(_vis.KINDS)}.")
        if publish:
            for kind, (arr, labels) in out.items():
                self.events.publish("images", grid=kind, array=arr, labels=labels,
                                    step=step, epoch=progress)
        return out

    # ==================================================================================
    # disentanglement (known factors)
    # ==================================================================================
    def set_factors(self, factors, seed: int = 0) -> None:
        """Measure MI and MIG against ``factors`` (one row per data row) after each epoch,
        on a fixed subsample of ``factor_sample`` rows; ``None`` stops measuring."""
        if factors is None:
            self.probe = None
            return
        cfg = self.config
        self.probe = _dis.FactorProbe(factors, len(self.source.data),
                                      sample_size=cfg.factor_sample, bins=cfg.factor_bins,
                                      seed=seed)

    @property
    def factor_names(self) -> Optional[list]:
        return None if self.probe is None else list(self.probe.names)

    def measure_disentanglement(self) -> dict:
        """MI (latent dimension x factor, nats), normalised MI, entropies, per-factor gaps
        and MIG of the current model on the probe rows (needs factors)."""
        if self.probe is None:
            raise ValueError("no factors to measure against: pass factors= (one row of "
                             "generative factors per data row) or call set_factors().")
        src = self.source
        rows = self.probe.rows
        lab = None
        if src.conditional:
            lab = np.asarray(src.labels, dtype=object)[rows]
        with src.rendering():
            mu, _ = src.encode(src.data[rows], labels=lab)
        return self.probe.measure(mu)

    def measure_factors(self, epoch: int, step: int):
        t0 = time_now()
        res = self.measure_disentanglement()
        row = {"epoch": epoch, "step": step, "mig": res["mig"],
               "gaps": res["gaps"].tolist(), "mi": res["mi"].tolist(),
               "mi_normalized": res["mi_normalized"].tolist(),
               "entropy": res["entropy"].tolist(), "factors": res["factors"],
               "seconds": time_now() - t0}
        self.mig_rows.append(row)
        self.events.publish("disentanglement", **row)

    # ==================================================================================
    # status, alerts, parameters
    # ==================================================================================
    def status(self, state: str, *, epoch: float, step: int, target_epoch: float,
               reason: Optional[str] = None):
        self.events.publish("status", state=state, epoch=epoch, step=step,
                            target_epoch=target_epoch, reason=reason)

    def alert(self, a: dict, step: int, epoch: float):
        a = dict(a, step=step, epoch=epoch)
        self.alerts.append(a)
        # EventBus.publish takes the event kind as its first argument: the alert's own
        # kind travels as ``alert``
        self.events.publish("alert", alert=a["kind"], message=a["message"], fix=a["fix"],
                            step=a["step"], epoch=a["epoch"])

    def record_params(self, *, step: int, epoch: float, time: float, changes: dict,
                      previous: dict):
        changes = {k: plain(v) for k, v in changes.items()}
        for k in changes:
            self.param_rows.append({"step": step, "epoch": epoch, "time": time, "param": k,
                                    "old": previous.get(k), "new": changes[k]})
        self.events.publish("params", step=step, epoch=epoch, changes=changes,
                            previous=previous)

    def error(self, message: str, traceback: str):
        self.events.publish("error", message=message, traceback=traceback)

    # ==================================================================================
    # checkpoints
    # ==================================================================================
    def state_dict(self) -> dict:
        """Everything the monitor knows of the run, in plain types (tensors for the
        factor probe): histories, the alert state machines, the row decimation."""
        probe = self.probe
        return {
            "history": plain(self.rows), "epoch_history": plain(self.epoch_rows),
            "param_history": plain(self.param_rows), "alerts": plain(self.alerts),
            "mig_history": plain(self.mig_rows), "last_kl": plain(self.last_kl),
            "stride": self._stride, "row_counter": self._row_counter,
            "overfit": {"train": list(self.overfit.train), "val": list(self.overfit.val),
                        "fired": self.overfit.fired},
            "collapse": {"counts": list(self.collapse.counts), "fired": self.collapse.fired},
            "units": {"seen": self.units.seen, "fired": self.units.fired},
            "diverge_first": self.diverge.first,
            "factor_probe": None if probe is None else {
                "rows": torch.from_numpy(np.asarray(probe.rows, dtype=np.int64)),
                "codes": torch.from_numpy(np.asarray(probe.codes, dtype=np.int64)),
                "names": list(probe.names), "bins": int(probe.bins)},
        }

    def load_state_dict(self, state: dict) -> None:
        self.rows = list(state["history"])
        self.epoch_rows = list(state["epoch_history"])
        self.param_rows = list(state["param_history"])
        self.alerts = list(state["alerts"])
        self.mig_rows = list(state.get("mig_history") or [])
        self.last_kl = state.get("last_kl")
        self._stride, self._row_counter = state["stride"], state["row_counter"]
        self.overfit.train = list(state["overfit"]["train"])
        self.overfit.val = list(state["overfit"]["val"])
        self.overfit.fired = state["overfit"]["fired"]
        self.collapse.counts = list(state["collapse"]["counts"])
        self.collapse.fired = state["collapse"]["fired"]
        self.diverge.first = state["diverge_first"]
        units = state.get("units") or {}           # (checkpoints before the units alert)
        self.units.seen, self.units.fired = units.get("seen", 0), units.get("fired", False)
        probe = state.get("factor_probe")
        if probe is not None and int(probe["rows"].max()) < len(self.source.data):
            self.probe = _dis.FactorProbe.from_codes(probe["rows"].numpy(),
                                                     probe["codes"].numpy(), probe["names"],
                                                     probe["bins"])


def time_now() -> float:
    return time.perf_counter()


#: moved (kept for one release): the history columns to ``vae.history``, the window folding to ``vae.window``
__getattr__ = moved_names(__name__, {
    **dict.fromkeys(["METRIC_COLUMNS", "EPOCH_COLUMNS", "PARAM_COLUMNS", "MIG_COLUMNS"],
                    "vae_widgets.vae.history"),
    "fold_steps": "vae_widgets.vae.window"})
