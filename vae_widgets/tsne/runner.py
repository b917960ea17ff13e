"""``TSNERunner``: openTSNE, observable and steerable while it runs. No Jupyter here.

How it hooks into openTSNE (1.0): openTSNE accepts a callable as
``negative_gradient_method`` and calls it once per iteration with the current
embedding, before that iteration's update. Wrapping the real gradient function
gives, at no cost:

- frames: a float32 copy of the embedding every ``frame_interval`` seconds
  (~12 µs for 20k points);
- KL every ``kl_every`` iterations, by asking that one call to evaluate the
  error (openTSNE's callbacks force a KL evaluation each time they run: every
  iteration would cost +50 % at 20k points); with ``kl_every="auto"`` as often as
  the evaluations stay under ``KL_BUDGET`` of the optimisation time (measured as
  it runs: every ~50 iterations at 10k points, ~10 on small data);
- pause, by blocking inside the call;
- stop and live parameter edits, by raising inside the call. openTSNE then
  leaves P multiplied by the exaggeration and the optimizer state as it was after
  the last completed update, so the runner restores P from a pristine copy and,
  for an edit, continues with a new ``optimize()`` segment from exactly there.

With no edits the result is bit-identical to ``openTSNE.TSNE(...).fit`` with the
same affinities and seed (exact neighbours are the same affinities while the search is
one query, n^2 * d <= ``knn.CHUNK_WORK``; a chunked search may differ from openTSNE's
single one in the last bits of the distances, as BLAS blocks the products differently); affinities are kept between runs (P restored) so a
re-run with the same seed is bit-identical too.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, replace

import numpy as np
import openTSNE
from openTSNE import affinity, initialization
from openTSNE.tsne import kl_divergence_bh, kl_divergence_fft

from .. import _threads
from .._stream import Control, EventBus, Stopped
from .._validation import as_data_matrix
from . import knn as knn_mod
from . import metrics
from .history import FrameHistory
from .params import (LIVE, TSNEParams, check_for_data, check_param, check_rows_differ,
                     make_params)

#: parameters whose change invalidates the cached preprocessing/affinities
_AFFINITY_KEYS = ("perplexity", "metric", "neighbors", "standardize", "pca_components",
                  "random_state", "n_jobs")
PCA_TARGET = 50
#: kl_every="auto": KL evaluations may cost this fraction of the optimisation time ...
KL_BUDGET = 0.01
#: ... but come at least every KL_MAX_GAP and at most every KL_MIN_GAP iterations
KL_MIN_GAP, KL_MAX_GAP = 5, 50


class _EditInterrupt(Exception):
    """Raised inside openTSNE's loop to start a new segment with edited parameters."""


@dataclass
class _Segment:
    phase: str
    start: int            # global iteration at which the segment starts
    n_iter: int           # iterations asked of this optimize() call
    exaggeration: float
    learning_rate: float
    calls: int = 0        # gradient evaluations so far (the last one is openTSNE's final KL)


def change_label(changes: dict) -> str:
    """The mark a live parameter change leaves on the KL chart."""
    return ", ".join(f"{k.replace('_', ' ')} {v:g}" if not isinstance(v, str) else
                     f"{k.replace('_', ' ')} {v}" for k, v in changes.items())


def main_phase_label(params: TSNEParams) -> str:
    """The mark at the end of early exaggeration."""
    return "exaggeration off" if params.exaggeration == 1 else "main phase"


class TSNERunner:
    """Run t-SNE (openTSNE) and publish what happens on ``self.events``.

    Events (``Event.kind``: data):
    ``status``: state (preparing|affinities|running|paused|done|stopped|error);
    ``preprocessed``: description; ``progress``: fraction, message;
    ``frame``: iteration, phase, embedding (float32, (n, 2)), key (must be shown);
    ``kl``: row (iteration, phase, kl, exaggeration, learning_rate);
    ``phase``: phase, iteration; ``params``: iteration, changes, live;
    ``notice``: message; ``threads``: threads, previous (None for the run's first
    choice), auto, cores, reason, iteration (the optimisation's thread count: chosen
    when it starts and each time it changes, see :mod:`vae_widgets._threads`);
    ``done``: embedding, kl, stopped, timings;
    ``quality``: quality (see :meth:`evaluate`), after ``done`` of a run that
    completed (not stopped) when ``quality_after_run`` is true; ``error``: message,
    traceback.

    ``frame_history`` keeps the run's frames (bounded, thinned; see
    :class:`~vae_widgets.tsne.history.FrameHistory`) for replay and trails.

    ``run()`` blocks; call it on a thread to steer it with ``pause()``,
    ``resume()``, ``stop()`` and ``set_params()`` from another.
    """

    def __init__(self, X, **params):
        self.X = as_data_matrix(X, "X", min_rows=5, keep_float32=True)
        self.params: TSNEParams = make_params(**params)
        check_for_data(self.params, *self.X.shape)
        check_rows_differ(self.X)
        self.events = EventBus()
        self.control = Control()
        self.embedding: np.ndarray | None = None
        self.kl: float | None = None
        self.history: list[dict] = []
        self.marks: list[dict] = []
        self.timings: dict[str, float] = {}
        self.iteration = 0
        self.phase = ""
        self.state = "idle"
        self.description = ""
        self._lock = threading.Lock()
        self._pending: dict = {}
        self._running = False
        self._cache_key = None
        self._cache: dict = {}
        self._seg: _Segment | None = None
        self._last_frame = -np.inf
        self.frame_history = FrameHistory()
        #: score the embedding (trustworthiness, kNN preservation) when a run ends
        self.quality_after_run = True
        self.quality: dict | None = None
        self.result = None
        #: the optimisation's thread counts this run: {iteration, threads, previous, reason}
        self.thread_log: list[dict] = []
        self.thread_policy: _threads.ThreadPolicy | None = None
        self._jobs = 1
        self._tick = None

    # ------------------------------------------------------------ steering
    @property
    def running(self) -> bool:
        return self._running

    def pause(self):
        self.control.pause()

    def resume(self):
        self.control.resume()

    def stop(self):
        self.control.stop()

    def set_params(self, **changes) -> dict:
        """Validate and apply parameter changes.

        During a run, ``exaggeration``, ``early_exaggeration`` and ``learning_rate``
        act from the next iteration (a new optimisation segment, logged in
        ``marks``); the others take effect on the next ``run()``.
        Returns ``{"live": {...}, "next_run": {...}}``.
        """
        clean = {k: check_param(k, v) for k, v in changes.items()}
        if "perplexity" in clean or "pca_components" in clean:
            check_for_data(replace(self.params, **clean), *self.X.shape)
        live = {k: v for k, v in clean.items() if self._running and k in LIVE}
        later = {k: v for k, v in clean.items() if k not in live}
        with self._lock:
            self.params = replace(self.params, **later)
            self._pending.update(live)
        if self._running and later:
            names = ", ".join(f"{k}={v}" for k, v in later.items())
            self.events.publish("notice", message=f"{names} takes effect on the next run.")
        return {"live": live, "next_run": later}

    def set_data(self, X) -> None:
        """Replace the data (same number of rows, any number of columns); the next ``run()``
        preprocesses it and computes new affinities. Not while a run is going on."""
        if self._running:
            raise RuntimeError("set_data() while the runner runs: stop() it and wait first.")
        X = as_data_matrix(X, "X", min_rows=5, keep_float32=True)
        if X.shape[0] != self.X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but this runner embeds "
                             f"{self.X.shape[0]}; make a new runner for other rows.")
        check_for_data(self.params, *X.shape)
        check_rows_differ(X)
        self.X = X
        # preprocessed data and affinities are cached per parameter set: drop them
        self._cache_key, self._cache = None, {}

    def remote_description(self) -> dict:
        """What a notebook listening through the bridge needs before the events make
        sense: rows and columns of ``X``, the parameters in force, where the run is
        (``vae_widgets.bridge.stream_to`` sends it on each connect)."""
        import os
        import socket

        n, d = self.X.shape
        return {"engine": "TSNERunner", "rows": int(n), "features": int(d),
                "params": self.params.as_dict(), "state": self.state,
                "iteration": int(self.iteration), "host": socket.gethostname(),
                "pid": os.getpid()}

    # ------------------------------------------------------------ the run
    def run(self) -> np.ndarray:
        """Compute the embedding; returns it ((n, 2) float64). Blocks."""
        if self._running:
            raise RuntimeError("this runner is already running; wait for it or stop() it first.")
        self._running = True
        self.control.begin()
        with self._lock:
            self._pending.clear()
        p = self.params
        self.history, self.marks, self.timings = [], [], {}
        self.iteration, self.kl = 0, None
        self._kl_last, self._kl_next, self._plain_s = -KL_MAX_GAP, 0.0, None
        self.frame_history.clear()
        self.quality, self.result = None, None
        t_start = time.perf_counter()
        try:
            self._status("preparing")
            Xp = self._preprocess(p)
            self._show_initial(Xp, p)
            aff = self._affinities(Xp, p)
            embedding = self._prepare_embedding(Xp, aff, p)
            self._optimize(embedding, p)
            if not np.isfinite(embedding).all():   # never a NaN map reported as done
                raise FloatingPointError("the embedding holds NaN or inf values; try a "
                                         "smaller learning_rate or exaggeration")
            stopped = False
        except Stopped:
            stopped = True
        except Exception as exc:
            self.timings["total"] = time.perf_counter() - t_start
            self._status("error")
            self.events.publish("error", message=f"{type(exc).__name__}: {exc}",
                                traceback=traceback.format_exc())
            raise
        finally:
            self._running = False
        self.timings["total"] = time.perf_counter() - t_start
        self.result = self.embedding                     # openTSNE's object (for transform)
        self.embedding = np.array(self.embedding)        # a plain copy for users
        self._frame(key=True)
        self._status("stopped" if stopped else "done")
        self.events.publish("done", embedding=self.embedding, kl=self.kl, stopped=stopped,
                            timings=dict(self.timings))
        if self.quality_after_run and not stopped:   # a stop ends the worker at once
            self._publish_quality()
        return self.embedding

    def _publish_quality(self):
        """Score the finished embedding; a failure here is a notice, not a failed run."""
        try:
            self.quality = self.evaluate()
        except Exception as exc:  # noqa: BLE001 - the run itself succeeded
            self.events.publish("notice", message=f"quality scores failed: {exc}")
            return
        self.events.publish("quality", quality=dict(self.quality))

    def _status(self, state):
        self.state = state
        self.events.publish("status", state=state)

    def _preprocess(self, p: TSNEParams) -> np.ndarray:
        key = tuple(getattr(p, k) for k in _AFFINITY_KEYS)
        if key == self._cache_key and "X" in self._cache:
            return self._cache["X"]
        t0 = time.perf_counter()
        X, steps = self.X, []
        n, d = X.shape
        prep = {}   # the fitted steps, so new points get exactly the same treatment
        if p.standardize:
            sd = X.std(axis=0)
            prep["mean"], prep["sd"] = X.mean(axis=0), np.where(sd > 0, sd, 1).astype(X.dtype)
            X = X - prep["mean"]
            X /= prep["sd"]
            steps.append("standardised")
        target = PCA_TARGET if p.pca_components == "auto" else p.pca_components
        if target is not None and d > target and (p.pca_components != "auto" or d > PCA_TARGET):
            from sklearn.decomposition import PCA

            pca = PCA(n_components=min(target, n), random_state=p.random_state)
            X = pca.fit_transform(X)
            prep["pca"] = pca
            steps.append(f"PCA {d}→{X.shape[1]} ({pca.explained_variance_ratio_.sum():.1%} variance)")
        X = np.ascontiguousarray(X, dtype=np.float64)
        self.description = ", ".join(steps)
        self.events.publish("preprocessed", description=self.description, shape=X.shape)
        self._cache_key, self._cache = key, {"X": X, "prep": prep}
        self.timings["preprocess"] = time.perf_counter() - t0
        return X

    def _show_initial(self, X, p: TSNEParams):
        """Publish a layout before the (slow) affinities, so views show points at once."""
        if p.initialization == "random":
            init = initialization.random(X.shape[0], 2, random_state=p.random_state)
        elif X.shape[1] == 1:   # PCA needs two columns: the column along x, a small random y
            init = initialization.random(X.shape[0], 2, random_state=p.random_state)
            init[:, 0] = initialization.rescale(X - X.mean())[:, 0]
            if p.initialization == "pca":
                self.events.publish("notice", message=(
                    "X has one column: t-SNE starts from it along x with a small random y "
                    "(a PCA start needs two columns)."))
        else:  # pca, and a PCA preview while a spectral start waits for P
            init = initialization.pca(X, 2, random_state=p.random_state)
        self._cache["init"] = init
        self.embedding, self.phase = init, "initial"
        self.events.publish("phase", phase="initial", iteration=0)
        self._frame(key=True)

    def _affinities(self, X, p: TSNEParams):
        if "affinities" in self._cache:
            aff = self._cache["affinities"]
            aff.P.data[:] = self._cache["P_data"]  # pristine P: exaggeration round-trips are lossy
            self.events.publish("progress", fraction=1.0, message="affinities reused")
            return aff
        self._status("affinities")
        self.phase = "affinities"
        self.events.publish("phase", phase="affinities", iteration=0)
        t0 = time.perf_counter()
        n = X.shape[0]
        k = min(n - 1, int(3 * p.perplexity))
        method = knn_mod.choose_method(p.neighbors, n, X.shape[1], p.metric)
        self.events.publish("progress", fraction=0.0,
                            message=f"nearest neighbours ({method}, k={k})")
        if method == "exact":
            def progress(done, total):
                self.events.publish("progress", fraction=0.9 * done / total,
                                    message=f"nearest neighbours {done:,} / {total:,}")
            knn_index = knn_mod.ChunkedExactKNN(
                X, k, metric=p.metric, n_jobs=p.threads, random_state=p.random_state,
                progress=progress, check=lambda: self.control.wait_while_paused(
                    on_pause=lambda: self._status("paused"),
                    on_resume=lambda: self._status("affinities")))
            aff = affinity.MultiscaleMixture(perplexities=p.perplexity, knn_index=knn_index,
                                             n_jobs=p.threads)
        else:
            aff = affinity.MultiscaleMixture(X, p.perplexity, method=method, metric=p.metric,
                                             n_jobs=p.threads, random_state=p.random_state)
        self.control.wait_while_paused()
        self.events.publish("progress", fraction=1.0, message="affinities ready")
        self.timings["affinities"] = time.perf_counter() - t0
        self._cache.update(affinities=aff, P_data=aff.P.data.copy(), knn_method=method, k=k)
        return aff

    def _prepare_embedding(self, X, aff, p: TSNEParams):
        init = self._cache["init"]
        if p.initialization == "spectral":
            init = initialization.spectral(aff.P, 2, random_state=p.random_state)
        method = p.negative_gradient_method
        if method == "auto":  # openTSNE's rule, resolved here because we pass a callable
            method = "bh" if X.shape[0] < 10_000 else "fft"
        self._base_gradient = kl_divergence_bh if method == "bh" else kl_divergence_fft
        self.gradient_method = method
        embedding = openTSNE.TSNEEmbedding(
            np.array(init), aff, random_state=p.random_state,
            dof=p.dof, learning_rate=p.learning_rate, momentum=p.final_momentum,
            theta=p.theta, n_interpolation_points=3, min_num_intervals=50,
            ints_in_interval=1, max_grad_norm=None, max_step_norm=5,
            n_jobs=p.threads, verbose=False, callbacks=None, callbacks_every_iters=50,
            negative_gradient_method=self._gradient)
        self.embedding = embedding
        return embedding

    # ------------------------------------------------------------ threads
    def _choose_threads(self, p: TSNEParams) -> None:
        """The optimisation's thread count: ``n_jobs`` when given, else a
        :class:`~vae_widgets._threads.ThreadPolicy` that starts from the OS's load and
        keeps choosing from the measured iteration rate (the result does not depend on the
        count: openTSNE's gradients are the same sums whatever the split)."""
        self.thread_log, self._tick, self.thread_policy = [], None, None
        if not p.auto_threads:
            self._jobs = p.threads
            self._publish_threads(self._jobs, None, auto=False, cores=self._jobs,
                                  reason=f"n_jobs={p.n_jobs}")
            return
        cores = _threads.available_cores()
        start, others = _threads.start_guess(cores)
        self._jobs = start
        if cores > 1:
            self.thread_policy = _threads.ThreadPolicy(
                self._set_jobs, cores, start=start, hint=_threads.free_cores(cores, others),
                probe=_threads.CpuMeter(), on_change=self._threads_changed)
        self._publish_threads(start, None, auto=True, cores=cores,
                              reason=_threads.start_reason(start, cores, others))

    def _set_jobs(self, n: int) -> None:
        self._jobs = n

    def _threads_changed(self, new: int, previous: int, reason: str) -> None:
        self._publish_threads(new, previous, auto=True, cores=self.thread_policy.cores,
                              reason=reason)

    def _publish_threads(self, threads, previous, *, auto, cores, reason):
        entry = {"iteration": int(self.iteration), "threads": int(threads),
                 "previous": previous, "reason": reason}
        self.thread_log.append(entry)
        self.events.publish("threads", threads=int(threads), previous=previous, auto=auto,
                            cores=int(cores), reason=reason, iteration=int(self.iteration))

    def _optimize(self, embedding, p: TSNEParams):
        self._choose_threads(p)
        self._status("running")
        for phase, n_iter in (("early_exaggeration", p.early_exaggeration_iter),
                              ("main", p.n_iter)):
            if n_iter == 0:
                continue
            t0 = time.perf_counter()
            self.phase = phase
            if phase == "main" and p.early_exaggeration_iter:
                self.marks.append({"iteration": self.iteration,
                                   "label": main_phase_label(self.params)})
            self.events.publish("phase", phase=phase, iteration=self.iteration)
            done = 0
            while done < n_iter:
                done += self._segment(embedding, phase, n_iter - done)
            self.timings[phase] = time.perf_counter() - t0
            self._frame(key=True)

    def _segment(self, embedding, phase: str, n_iter: int) -> int:
        """One optimize() call; returns the iterations it completed."""
        p = self.params
        ex = p.early_exaggeration if phase == "early_exaggeration" else p.exaggeration
        lr = embedding.shape[0] / ex if p.learning_rate == "auto" else p.learning_rate
        momentum = p.initial_momentum if phase == "early_exaggeration" else p.final_momentum
        seg = self._seg = _Segment(phase, self.iteration, n_iter, ex, lr)
        try:
            embedding.optimize(n_iter=n_iter, inplace=True, propagate_exception=True,
                               exaggeration=ex, learning_rate=lr, momentum=momentum)
        except (_EditInterrupt, Stopped):
            self._restore_P()
            if self.control.stop_requested:
                raise Stopped() from None
            self._apply_pending()
            return self.iteration - seg.start
        self.iteration = seg.start + n_iter
        return n_iter

    def _restore_P(self):
        aff = self._cache["affinities"]
        aff.P.data[:] = self._cache["P_data"]

    def _apply_pending(self):
        with self._lock:
            changes, self._pending = self._pending, {}
        if not changes:
            return
        self.params = replace(self.params, **changes)
        self.marks.append({"iteration": self.iteration, "label": change_label(changes)})
        self.events.publish("params", iteration=self.iteration, changes=changes, live=True)

    # ------------------------------------------------------------ inside openTSNE
    def _gradient(self, embedding, P, should_eval_error=False, **kw):
        seg = self._seg
        k = seg.calls
        seg.calls += 1
        kw["n_jobs"] = self._jobs
        if k == seg.n_iter:  # openTSNE's closing evaluation: the KL of the final layout
            self._tick = None
            error, grad = self._base_gradient(embedding, P, should_eval_error=True, **kw)
            # openTSNE has already divided P by the exaggeration: this error is the plain KL
            self._record_kl(seg.start + k, error, seg, exaggerated=False)
            return error, grad
        self.iteration = seg.start + k
        ctl = self.control
        if ctl.paused or ctl.stop_requested or self._pending:
            self._tick = None           # a pause is no work
            ctl.wait_while_paused(on_pause=self._on_pause, on_resume=self._on_resume)
            if self._pending:
                raise _EditInterrupt()
        kl_every = self.params.kl_every
        if kl_every == "auto":
            eval_kl = self._kl_due(k)
        else:
            eval_kl = self.iteration % kl_every == 0
        t0 = time.perf_counter()
        policy = self.thread_policy
        if policy is not None:
            # one iteration = from here to here in the next call (the gradient, openTSNE's
            # update, our frames); not one with a KL evaluation, a pause or a new segment
            if self._tick is not None and k:
                policy.sample(1, t0 - self._tick)
                kw["n_jobs"] = self._jobs
            self._tick = None if eval_kl else t0
        error, grad = self._base_gradient(embedding, P, should_eval_error=eval_kl, **kw)
        if kl_every == "auto":
            self._kl_clock(eval_kl, time.perf_counter() - t0)
        if eval_kl:
            self._record_kl(self.iteration, error, seg)
        if time.perf_counter() - self._last_frame >= self.params.frame_interval:
            self._frame()
        return error, grad

    def _kl_due(self, k: int) -> bool:
        """kl_every="auto": a KL point at each segment's start, then whenever enough
        time has passed for the last evaluation to have cost under KL_BUDGET."""
        gap = self.iteration - self._kl_last
        if k == 0 or gap >= KL_MAX_GAP:
            return True
        return gap >= KL_MIN_GAP and time.perf_counter() >= self._kl_next

    def _kl_clock(self, evaluated: bool, seconds: float) -> None:
        if not evaluated:   # the gradient alone: a running mean of its cost
            self._plain_s = seconds if self._plain_s is None else 0.9 * self._plain_s + 0.1 * seconds
            return
        self._kl_last = self.iteration
        extra = seconds - self._plain_s if self._plain_s is not None else 0.5 * seconds
        self._kl_next = time.perf_counter() + max(extra, 0.0) / KL_BUDGET

    def _on_pause(self):
        self._frame(key=True)
        self._status("paused")

    def _on_resume(self):
        self._status("running")

    def _record_kl(self, iteration, error, seg: _Segment, exaggerated: bool = True):
        ex = seg.exaggeration
        # KL(a*P || Q) = a * (KL(P || Q) + log a) when P sums to one
        kl = float(error / ex - np.log(ex)) if ex != 1 and exaggerated else float(error)
        row = {"iteration": int(iteration), "phase": seg.phase, "kl": kl,
               "exaggeration": float(ex), "learning_rate": float(seg.learning_rate)}
        if self.history and self.history[-1]["iteration"] == row["iteration"]:
            self.history[-1] = row
        else:
            self.history.append(row)
        self.kl = kl
        self.events.publish("kl", row=row)

    def _frame(self, key: bool = False):
        self._last_frame = time.perf_counter()
        frame = np.asarray(self.embedding, dtype=np.float32)
        if frame is self.embedding:   # never keep a view of an array that keeps changing
            frame = frame.copy()
        self.frame_history.add(self.iteration, frame)
        self.events.publish("frame", iteration=self.iteration, phase=self.phase,
                            embedding=frame, key=key)

    # ------------------------------------------------------------ results
    @property
    def history_frame(self):
        """The KL history as a pandas DataFrame (iteration, phase, kl, parameters in force)."""
        import pandas as pd

        return pd.DataFrame(self.history, columns=["iteration", "phase", "kl", "exaggeration",
                                                   "learning_rate"])

    @property
    def neighbors_method(self) -> str | None:
        return self._cache.get("knn_method")

    # ------------------------------------------------------------ after a run
    def _finished_result(self, what: str):
        if self._running:
            raise RuntimeError(f"{what}: t-SNE is still running; wait() for it to finish "
                               f"(or stop() it) first.")
        if not isinstance(self.result, openTSNE.TSNEEmbedding):
            raise RuntimeError(f"{what} needs a finished t-SNE run; call run() (and wait() for "
                               f"it) first.")
        return self.result

    @property
    def preprocessed(self) -> np.ndarray:
        """The data as t-SNE saw it (after standardisation / PCA), float64 (n, d')."""
        if "X" not in self._cache:
            raise RuntimeError("the data has not been preprocessed yet; call run() first.")
        return self._cache["X"]

    def preprocess_new(self, X_new) -> np.ndarray:
        """Apply the fitted preprocessing of the last run (standardise, PCA) to new rows.

        Raises ``ValueError`` when ``X_new`` has a different number of columns than ``X``.
        """
        if "prep" not in self._cache:
            raise RuntimeError("no preprocessing fitted yet; call run() first.")
        X_new = as_data_matrix(X_new, "X_new", min_rows=1)
        d = self.X.shape[1]
        if X_new.shape[1] != d:
            raise ValueError(f"X_new has {X_new.shape[1]} columns but the embedded data has "
                             f"{d}; pass rows with the same {d} features, in the same order.")
        prep = self._cache["prep"]
        if "mean" in prep:
            X_new = (X_new - prep["mean"]) / prep["sd"]
        if "pca" in prep:
            X_new = prep["pca"].transform(X_new)
        return np.ascontiguousarray(X_new, dtype=np.float64)

    def evaluate(self, k: int = metrics.K, sample: int = metrics.SAMPLE) -> dict:
        """Trustworthiness and kNN preservation of the last embedding.

        Computed in the preprocessed space t-SNE was given, on a random sample of
        at most ``sample`` points seeded with ``random_state`` (see
        :func:`vae_widgets.tsne.metrics.embedding_quality`).
        """
        if self.embedding is None or "X" not in self._cache:
            raise RuntimeError("no embedding to evaluate; call run() first.")
        metric = self.params.metric if self.params.metric != "hamming" else "euclidean"
        return metrics.embedding_quality(self._cache["X"], self.embedding, k=k, sample=sample,
                                         random_state=self.params.random_state, metric=metric)

    def transform(self, X_new, n_iter: int = 250) -> np.ndarray:
        """Place new rows onto the finished embedding (openTSNE ``TSNEEmbedding.transform``).

        The reference embedding is not modified: openTSNE re-centres the
        embedding it transforms against in place, so this works on a copy and
        shifts the new positions back into the reference's coordinates.

        Parameters
        ----------
        X_new : array (m, d)
            Rows with the same columns as ``X``; preprocessed like ``X``.
        n_iter : int
            Optimisation steps for the new points (openTSNE's default, 250).

        Returns
        -------
        ndarray (m, 2)
            Positions of the new points in the reference embedding's coordinates.
        """
        ref = self._finished_result("transform")
        Xp = self.preprocess_new(X_new)
        p = self.params
        gd = dict(ref.gradient_descent_params)
        gd["negative_gradient_method"] = self.gradient_method    # not our hooked callable
        copy = openTSNE.TSNEEmbedding(np.array(ref, dtype=np.float64), ref.affinities,
                                      random_state=p.random_state, **gd)
        centre = (copy.max(axis=0) + copy.min(axis=0)) / 2       # what transform() removes
        aff = ref.affinities
        P_before = aff.P.data.copy()
        try:
            new = copy.transform(Xp, n_iter=n_iter)
        finally:
            aff.P.data[:] = P_before
        return np.asarray(new, dtype=np.float64) + centre

    def drift(self, X_new, k: int = metrics.K, sample: int = metrics.SAMPLE) -> dict:
        """Distance of new rows to the reference data, relative to its own spacing.

        See :func:`vae_widgets.tsne.metrics.drift`; computed in the preprocessed space.
        """
        Xp = self.preprocess_new(X_new)
        metric = self.params.metric if self.params.metric != "hamming" else "euclidean"
        return metrics.drift(self._cache["X"], Xp, k=min(k, len(self._cache["X"]) - 1),
                             sample=sample, random_state=self.params.random_state, metric=metric)
