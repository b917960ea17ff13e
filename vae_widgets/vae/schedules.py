"""KL weight (beta) schedules.

A schedule is a factor in [0, 1] that multiplies the user's ``beta``; the
objective at step ``t`` is ``recon + beta * factor(t) * KL``. Time ``t`` is
measured in epochs (fractional: ``step / steps_per_epoch``), so warm-ups and
cycles keep their meaning when the batch size changes; pass steps instead and
give ``warmup``/``total`` in steps too — the functions only need one unit.

- ``constant``: 1.
- ``linear``: ``min(1, t / warmup)`` (Bowman et al. 2016); ``warmup == 0`` gives 1.
- ``cyclical`` (Fu et al. 2019, "Cyclical Annealing Schedule"): the span
  ``total`` is cut into ``n_cycles`` periods of length ``P = total / n_cycles``;
  inside each period, with ``tau = (t mod P) / P``, the factor rises linearly
  ``tau / ratio`` for ``tau < ratio`` and stays at 1 for the rest of the period.
  After ``total`` the cycles keep repeating with the same period (a resumed run
  keeps cycling).
"""
from __future__ import annotations

import math

from .._validation import choice
from .config import SCHEDULES


def constant(t: float) -> float:
    return 1.0


def linear(t: float, warmup: float) -> float:
    if warmup <= 0:
        return 1.0
    return min(1.0, max(0.0, t / warmup))


def cyclical(t: float, total: float, n_cycles: int = 4, ratio: float = 0.5) -> float:
    if total <= 0:
        return 1.0
    period = total / n_cycles
    tau = math.fmod(max(t, 0.0), period) / period
    # float guard: t an exact multiple of the period starts a new cycle at 0
    if period - math.fmod(max(t, 0.0), period) < 1e-12 * max(1.0, period):
        tau = 0.0
    return min(1.0, tau / ratio)


def beta_factor(kind: str, t: float, *, warmup: float = 0.0, total: float = 0.0,
                n_cycles: int = 4, ratio: float = 0.5) -> float:
    """The schedule factor in [0, 1] at time ``t`` (epochs, or steps if all arguments are)."""
    if kind == "constant":
        return 1.0
    if kind == "linear":
        return linear(t, warmup)
    if kind == "cyclical":
        return cyclical(t, total, n_cycles, ratio)
    choice(kind, "kl_schedule", SCHEDULES)  # raises with the list of names
    raise AssertionError("unreachable")


def warmup_end(kind: str, *, warmup: float = 0.0, total: float = 0.0,
               n_cycles: int = 4, ratio: float = 0.5) -> float:
    """When the first ramp reaches full beta (epochs): where collapse checks may start."""
    if kind == "linear":
        return warmup
    if kind == "cyclical":
        return (total / n_cycles) * ratio if total > 0 else 0.0
    return 0.0
