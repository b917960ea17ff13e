"""Which thread owns a ``VAETrainer``'s model, and how many torch threads it uses.

While ``fit`` runs, the training thread owns the model: the weights are consistent
only between two steps, and torch work on a second thread would start a second
OpenMP team that throttles the training thread's (see ``vae_widgets._openmp``).
So every other thread's call (``encode``, ``sample``, ``evaluate``, ``snapshot``,
...) is queued with :meth:`FitOwnership.run_between_steps` and run by the training
thread between two steps, or at once from a pause.

The same thread's intra-op torch threads follow ``config.threads``: a fixed count,
or "auto" (a :class:`~vae_widgets._threads.ThreadPolicy` that starts from the OS's
load and follows the measured step rate); every choice is logged in ``thread_log``
and published as a ``"threads"`` event.

``FitOwnership`` is mixed into ``VAETrainer`` and relies on its ``control``,
``config``, ``device``, ``step``, ``events``, ``_progress()`` and the run state
``_setup`` creates (``_lock``, ``_calls``, ``_running``, ``_parked``,
``_fit_thread``, ``thread_log``, ``thread_policy``, ``_threads_held``).
"""
from __future__ import annotations

import copy
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Optional

import torch

from .. import _threads
from .._validation import number

# torch keeps one intra-op thread count for threads that have not run torch yet (and each
# thread its own once it has): the count before the first fit() of this process's
# running ones is the ceiling for all of them, and is put back when they end
_torch_lock = threading.Lock()
_torch_fits = 0
_torch_default = 1


def _torch_threads_acquire() -> int:
    global _torch_fits, _torch_default
    with _torch_lock:
        if _torch_fits == 0:
            _torch_default = torch.get_num_threads()   # torch.set_num_threads / OMP_NUM_THREADS
        _torch_fits += 1
        return _torch_default


def _torch_threads_release() -> None:
    global _torch_fits
    with _torch_lock:
        _torch_fits = max(0, _torch_fits - 1)
        torch.set_num_threads(_torch_default)          # this thread's and the default


class FitOwnership:
    """The training thread's ownership of the model and its torch threads (see the
    module docstring)."""

    @property
    def _idle(self) -> bool:
        """True when no training step can be in flight (not fitting, or parked in a pause)."""
        return not self._running or self._parked

    def run_between_steps(self, fn, timeout: Optional[float] = None):
        """Run ``fn()`` where no training step is in flight; return its result.

        While ``fit`` runs (or is paused), the training thread owns the model: ``fn`` is
        queued, the training thread runs it before its next step (or at once, from a
        pause), and the caller waits for the result (``fn``'s exception is re-raised
        here). Otherwise (no ``fit``, or called from the training thread itself)
        ``fn`` runs in the calling thread.

        Why a queue and not a lock: the weights are consistent only between two steps,
        and torch work done on a second thread would start a second OpenMP team that
        throttles the training thread's (see ``vae_widgets._openmp``); on the training
        thread a call costs its own time and nothing more. ``encode``, ``decode``,
        ``sample``, ``evaluate``, ``anomaly_scores``, ``snapshot``, ... all go through
        here, so they are safe from any thread while training runs.

        Raises ``TimeoutError`` when ``timeout`` seconds pass before the training
        thread picks the call up (the call is then dropped).
        """
        with self._lock:
            inline = not self._running or threading.get_ident() == self._fit_thread
            if not inline:
                fut: Future = Future()
                self._calls.append((fn, fut))
        if inline:
            return fn()
        self.control.wake()
        try:
            return fut.result(timeout)
        except FutureTimeout:
            if fut.cancel():
                raise TimeoutError(f"the training thread did not reach a step boundary within "
                                   f"{timeout:g} s; pause training and try again.") from None
            return fut.result()     # it started meanwhile: wait for it

    def _serve_calls(self):
        """Training thread, between two steps (or parked in a pause): run queued calls."""
        with self._lock:
            calls, self._calls = self._calls, []
        for fn, fut in calls:
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:   # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)

    def snapshot(self, timeout: float = 30.0):
        """A frozen twin of this trainer (for encoding/decoding a fixed model later).

        The weights are copied between two training steps (see
        :meth:`run_between_steps`), or at once when training is idle or paused. The twin
        shares the data, labels and display settings and has its own model in eval
        mode: use its ``encode``, ``decode``, ``reconstruct``, ``traverse`` and
        ``interpolate``, never ``fit``. (The trainer's own methods are safe during
        training too; a twin is for keeping a model as it was.)

        Parameters
        ----------
        timeout : float
            Seconds to wait for the training thread to reach a step boundary.

        Returns
        -------
        VAETrainer
            The twin (cheap: only the weights are copied).
        """
        timeout = number(timeout, "timeout", low=0, low_open=True)
        twin = copy.copy(self)
        twin._model = self.run_between_steps(self._clone_model, timeout)
        twin._running, twin._parked, twin._calls = False, False, []
        twin._lock = threading.Lock()
        twin._sample_gen = torch.Generator()
        twin._sample_gen.set_state(self._sample_gen.get_state())
        return twin

    def _clone_model(self) -> torch.nn.Module:
        model = copy.deepcopy(self._model)     # Parameter deepcopy clones data, not grads
        model.eval()
        model.requires_grad_(False)
        return model

    # --- torch threads -----------------------------------------------------------------
    def _threads_begin(self) -> None:
        """torch's intra-op threads for this fit, on the training thread (torch keeps the
        count per thread: the kernel's own torch work keeps its count). ``threads=k``: k.
        "auto": a :class:`~vae_widgets._threads.ThreadPolicy` within what torch was set to
        use (``torch.set_num_threads``, ``OMP_NUM_THREADS``) and the cores available,
        starting from the OS's load and following the measured step rate. Not on a GPU,
        where the CPU threads hardly matter."""
        self.thread_log, self.thread_policy = [], None
        if self.device.type != "cpu":
            return
        ceiling = _torch_threads_acquire()
        self._threads_held = True
        want = self.config.threads
        if want != "auto":
            torch.set_num_threads(want)
            self._publish_threads(want, None, auto=False, cores=want, reason=f"threads={want}")
            return
        cores = max(1, min(_threads.available_cores(), ceiling))
        start, others = _threads.start_guess(cores)
        if cores > 1:
            self.thread_policy = _threads.ThreadPolicy(
                torch.set_num_threads, cores, start=start,
                hint=_threads.free_cores(cores, others), probe=_threads.CpuMeter(),
                on_change=self._threads_changed)
        else:
            torch.set_num_threads(1)
        reason = _threads.start_reason(start, cores, others)
        if ceiling < _threads.available_cores():
            reason += f" (torch is set to at most {ceiling})"
        self._publish_threads(start, None, auto=True, cores=cores, reason=reason)

    def _threads_changed(self, new: int, previous: int, reason: str) -> None:
        self._publish_threads(new, previous, auto=True, cores=self.thread_policy.cores,
                              reason=reason)

    def _publish_threads(self, threads, previous, *, auto, cores, reason):
        self.thread_log.append({"step": int(self.step), "threads": int(threads),
                                "previous": previous, "reason": reason})
        self.events.publish("threads", threads=int(threads), previous=previous, auto=auto,
                            cores=int(cores), reason=reason, step=int(self.step),
                            epoch=self._progress())

    def _threads_end(self) -> None:
        if self._threads_held:
            self._threads_held = False
            _torch_threads_release()
