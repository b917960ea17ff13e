"""What a ``VAEWidget`` does with its producer's events: traits and messages for the page.

The monitor (``vae.monitor.VAEMonitor``, or what a stand-in of a remote job keeps of
one) publishes every number once; :class:`VAEEvents` turns each event into trait
changes and custom messages (one send per datum): metric rows and epoch rows as
increments (``_schema.METRICS``, ``EPOCH``), the synced histories decimated to
``TRAIT_ROWS`` at pauses, the end and a view's hello, grids, alerts, parameter marks,
disentanglement, thread counts, and a remote job's link news. The curves show losses:
every ``*elbo`` column is sent as the negative ELBO.

Mixed into ``VAEWidget``; relies on its ``_monitor``, ``_source``, ``_producer``,
``_loop``, ``_remote``, ``_set_traits``, ``send``, ``_sync_params``, ``_describe`` and
``_render_selection``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _schema as S
from .. import _threads

#: columns of the metric history sent to the front end (kl_per_dim travels as bytes).
#: The front end plots losses, so every ``*elbo`` column is sent as the negative ELBO
#: (reconstruction + KL per sample, lower is better).
CURVE_COLUMNS = ("step", "epoch", "elbo", "recon", "kl", "active_units", "beta", "lr",
                 "grad_norm")
EPOCH_CURVE_COLUMNS = ("epoch", "step", "train_elbo", "val_elbo", "train_recon", "val_recon",
                       "train_kl", "val_kl", "active_units")
#: rows of history kept in the synced trait (the trainer keeps more)
TRAIT_ROWS = 2000


class VAEEvents:
    """The engine-event handlers of ``VAEWidget`` (see the module docstring)."""

    # ------------------------------------------------------------ a job in another process
    def _on_link_news(self, e):
        super()._on_link_news(e)
        remote = self._remote
        if self._loop is not remote:     # lightning_callback(): rank 0 runs in a child process
            if e.kind == "connected":
                self._producer = remote              # Pause/Stop/settings go to the job
            elif e.kind in ("lost", "closed") and self._producer is remote:
                self._producer = self._loop          # the widget's own loop again

    def _on_job_described(self):
        remote = self._remote
        updates = {"info": remote.describe()}
        if self._loop is remote:         # listen(): what the job says is all we know
            updates["latent_dim"] = self._source.latent_dim
            self._sync_params()
            factors = self._monitor.factor_names
            if factors and not self.disentanglement:
                updates["disentanglement"] = {"factors": factors,
                                              "latent_dim": self._source.latent_dim,
                                              "history": []}
        self._set_traits(**updates)

    # ------------------------------------------------------------ engine events
    def _on_event(self, e):
        handler = getattr(self, f"_on_{e.kind}", None)
        if handler is not None:
            handler(**e.data)

    def _on_status(self, state, epoch, step, target_epoch, reason=None):
        target = float(target_epoch)
        updates = dict(status=state, epoch=float(epoch), step=int(step),
                       target_epoch=target if math.isfinite(target) else 0.0)
        if state in ("done", "stopped", "paused", "error"):
            updates.update(self._history_traits())        # the synced state catches up
            updates.update(self._epoch_traits())
        self._set_traits(**updates)

    def _on_metrics(self, rows):
        # increments only: the synced history catches up at pauses, the end and a view's
        # hello (re-syncing it while training made long runs ever slower)
        clean = [{k: _curve_value(k, r.get(k)) for k in CURVE_COLUMNS} | {
            "kl_per_dim": [float(v) for v in r.get("kl_per_dim", [])]} for r in rows]
        self.send({"type": S.METRICS, "rows": clean})
        last = rows[-1]
        updates = dict(step=int(last["step"]), epoch=float(last["epoch"]))
        if last.get("active_units") is not None:    # (a row without a batch's mu has none)
            updates["active_units"] = int(last["active_units"])
        self._set_traits(**updates)

    def _on_epoch(self, **row):
        self.send({"type": S.EPOCH, "row": {c: _curve_value(c, row.get(c))
                                             for c in EPOCH_CURVE_COLUMNS}})
        units = row.get("active_units")
        if units is not None and math.isfinite(units):
            self._set_traits(active_units=int(units))

    def _on_hello(self):
        """A new view (or a reloaded page): the whole state, once."""
        self._set_traits(**self._history_traits(), **self._epoch_traits())

    def _on_images(self, grid, array, labels, step, epoch):
        grids = dict(self.grids)
        grids[grid] = {"shape": list(array.shape), "labels": labels, "step": int(step)}
        self._set_traits(**{f"grid_{grid}": array, "grids": grids})
        if grid == "reconstructions" and self.selection_indices:
            self._render_selection()           # the selection follows the model too

    def _on_alert(self, alert, message, fix, step, epoch):
        self._set_traits(alerts=self.alerts + [dict(kind=alert, message=message, fix=fix,
                                                    step=int(step), epoch=float(epoch))])

    def _on_params(self, step, epoch, changes, previous):
        if changes.get("traverse_base") is not None:
            self._set_traits(traversal_base=int(changes["traverse_base"]))
        # the traversal base is a view choice, not a training change: no mark on the curves
        changes = {k: v for k, v in changes.items() if k != "traverse_base"}
        if not changes:
            return
        label = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                          for k, v in changes.items())
        self._sync_params()
        self._set_traits(marks=self.marks + [{"step": int(step), "label": label}])

    def _on_disentanglement(self, epoch, step, mig, gaps, mi, mi_normalized, entropy, factors,
                            seconds):
        history = [[int(r["epoch"]), _json_number(r["mig"])]
                   for r in self._monitor.mig_rows[-TRAIT_ROWS:]]
        plain = lambda m: [[_json_number(v) for v in row] for row in m]  # noqa: E731
        self._set_traits(disentanglement={
            "factors": list(factors), "latent_dim": self._source.latent_dim,
            "mi": plain(mi), "mi_normalized": plain(mi_normalized),
            "gaps": [_json_number(g) for g in gaps], "entropy": [_json_number(h) for h in entropy],
            "mig": _json_number(mig), "epoch": int(epoch), "step": int(step), "history": history})

    def _on_error(self, message, traceback):
        self._set_traits(error=message, status=S.ERROR)

    def _on_threads(self, threads, previous=None, auto=True, reason="", **_):
        """Training's thread count: in the info line; a notice when it changes."""
        self._threads_text = _threads.describe(threads, auto, "" if auto else reason)
        updates = {"info": self._describe()}
        if previous is not None and previous != threads:
            updates["notice"] = (f"Training now runs on {_threads.describe(threads, auto)}: "
                                 f"{reason}. Pass threads=k to fix the count.")
        self._set_traits(**updates)

    # ------------------------------------------------------------ helpers
    def _history_traits(self) -> dict:
        hist = self._monitor.history
        if len(hist) > TRAIT_ROWS:   # keep the shape of the whole run, and its last row
            idx = np.unique(np.r_[np.linspace(0, len(hist) - 1, TRAIT_ROWS).astype(int)])
            hist = hist.iloc[idx]
        metrics = {c: [_curve_value(c, v) for v in hist[c]] if c in hist else []
                   for c in CURVE_COLUMNS}
        kl = (np.asarray(list(hist["kl_per_dim"]), dtype=np.float32).reshape(len(hist), -1)
              if len(hist) else None)
        return dict(metrics=metrics, kl_per_dim=kl)

    def _epoch_traits(self) -> dict:
        rows = self._monitor.epoch_rows
        return {"epoch_metrics": {c: [_curve_value(c, r.get(c)) for r in rows]
                                  for c in EPOCH_CURVE_COLUMNS}}


def _curve_value(column, v):
    v = _json_number(v)
    return -v if v is not None and column.endswith("elbo") else v


def _json_number(v):
    """NaN/inf are not JSON: send None (a gap in the curve)."""
    if v is None:
        return None
    v = float(v)
    return v if np.isfinite(v) else None
