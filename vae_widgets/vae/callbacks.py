"""Hooks into ``VAETrainer.fit``, in the shape of Lightning's ``Callback``.

A callback overrides the hooks it needs; each hook gets the trainer and the facts
of the moment as explicit arguments, and ``state_dict`` / ``load_state_dict``
carry the callback's own state through checkpoints. The trainer calls, in order:

``on_fit_start(trainer, target_epoch)`` once per ``fit``;
``on_metrics_row(trainer, row)`` after each metrics row (every ``metrics_every`` steps);
``on_train_epoch_end(trainer, epoch_row)`` after each epoch (validated or not);
``on_pause(trainer)`` / ``on_resume(trainer)`` around a pause;
``on_divergence(trainer, reason)`` when a row is NaN/inf or explodes: return the step
whose weights were put back, or None;
``on_fit_end(trainer, outcome)`` once (``"done"``, ``"stopped"``, ``"diverged"``,
``"interrupted"`` or ``"error"``), also after an exception.

Per-step work has no hook on purpose: the step is the hot path (see
``benchmarks/vae_overhead.py``); per-step terms go to the monitor's window.

``DivergenceGuard`` is the built-in callback that keeps the last weights known to
be finite and puts them back when training diverges.
"""
from __future__ import annotations

import time
from typing import Optional

import torch


class Callback:
    """Base class: every hook does nothing; ``state_dict`` is empty."""

    def on_fit_start(self, trainer, target_epoch: int) -> None:
        pass

    def on_metrics_row(self, trainer, row: dict) -> None:
        pass

    def on_train_epoch_end(self, trainer, epoch_row: dict) -> None:
        pass

    def on_pause(self, trainer) -> None:
        pass

    def on_resume(self, trainer) -> None:
        pass

    def on_divergence(self, trainer, reason: str) -> Optional[int]:
        return None

    def on_fit_end(self, trainer, outcome: str) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class DivergenceGuard(Callback):
    """Keeps a copy of the last weights (and optimiser moments) *known* to be finite and
    restores them when training diverges.

    Known, not hoped: the copy taken at a metrics row holds the weights *after* that
    row's last optimiser step, which no loss has been computed from yet. It becomes
    the restore point only when the next row comes back healthy (its losses were
    computed from those weights) and every tensor in it is finite. So a step that
    turns the weights into NaN can never become the restore point.

    ``every``: seconds between copies (a copy costs one pass over the weights).
    """

    def __init__(self, every: float = 0.5):
        self.every = every
        self._good: Optional[tuple] = None        # (step, [tensors]) verified
        self._candidate: Optional[tuple] = None   # (step, [tensors]) awaiting a healthy row
        self._spare: Optional[list] = None        # buffers reused for the next candidate
        self._last = -float("inf")

    @property
    def restore_point(self) -> Optional[int]:
        """The step whose weights a divergence would bring back (None: none yet)."""
        return None if self._good is None else self._good[0]

    def on_fit_start(self, trainer, target_epoch: int) -> None:
        # no loss has been computed from the weights a fit starts from (the last step of
        # the previous fit made them): a candidate, verified by the first row
        self._take(trainer)

    def on_metrics_row(self, trainer, row: dict) -> None:
        if self._candidate is not None and _finite(self._candidate[1]):
            # this row's losses came from the candidate's weights (and later ones)
            self._spare = self._good[1] if self._good is not None else None
            self._good, self._candidate = self._candidate, None
        now = time.perf_counter()
        if self._candidate is None and now - self._last >= self.every:
            self._take(trainer)

    def _take(self, trainer) -> None:
        self._last = time.perf_counter()
        src = trainer.state_tensors()
        buf = self._spare
        self._spare = None
        with torch.no_grad():
            if buf is not None and len(buf) == len(src) and all(
                    b.shape == s.shape for b, s in zip(buf, src)):
                for b, s in zip(buf, src):
                    b.copy_(s)
            else:
                buf = [s.detach().clone() for s in src]
        self._candidate = (trainer.step, buf)

    def on_divergence(self, trainer, reason: str) -> Optional[int]:
        point = self._good
        if point is None and self._candidate is not None and _finite(self._candidate[1]):
            # nothing verified yet (it blew up within the first row): the finite weights
            # the run started from are still better than the ones it ended with
            point = self._candidate
        self._candidate = None
        if point is None:
            return None
        step, saved = point
        trainer.load_state_tensors(saved)
        return step

    def state_dict(self) -> dict:
        return {}     # a checkpoint holds the current weights; the guard starts over


def _finite(tensors) -> bool:
    with torch.no_grad():
        return all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point())
