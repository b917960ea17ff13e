"""How many threads an engine's loop should use now, chosen while it runs.

Why (measured on a 2-core machine; ``benchmarks/threads_under_load.py``): openTSNE's
gradient and torch's kernels are thousands of short parallel regions, each ending at a
barrier. When another process holds a core, every barrier waits for the thread the OS
gave away: with one busy core beside it, t-SNE on digits ran at 111 it/s on two threads
and 190 on one; a VAE trained 34 epochs in 6 s on two threads, 85 on one. On a quiet
machine two threads win (299 vs 191 it/s). No fixed count is right on both.

:class:`ThreadPolicy` knows nothing of t-SNE, torch or widgets. The engine gives it a
function that sets the thread count (``apply(n)``, called from the engine's own thread,
between two work units) and reports each unit of work and how long it took
(``sample(units, seconds)``: an iteration, a training step; pauses, validation and
drawing are left out by the engine). Time, for the policy, is the sum of those seconds,
so it needs no clock and a test drives it with numbers alone.

What it does with them:

* **It starts from the OS.** ``start_guess`` counts the runnable threads of *other*
  processes now (``/proc/loadavg``'s running count minus this process's running
  threads) and starts with the cores left over (at least one). A short t-SNE run is
  over in 2-3 s; measuring first would spend a good part of it at the wrong count.
* **It measures.** Every so often it runs a trial: a window at the current count ``n``,
  a window at a neighbour ``m`` (n-1 or n+1, within 1..cores), a window at ``n`` again
  (A-B-A, so a rate that drifts through the run, as t-SNE's does while the map
  spreads, cancels out). ``m`` is kept only when its rate beats ``n``'s by ``MARGIN``
  (hysteresis: no flapping between two counts that are equally fast). The step rate
  is the truth the OS numbers only hint at: it includes what the OS cannot show (a
  container's quota, other threads of this process, hyper-threads, a neighbour at
  low priority that hardly hurts).
* **Trials are cheap where nothing changes.** A candidate that loses waits twice as
  long for its next trial (up to ``MAX_PERIOD``). A trial comes soon (``HINT_PERIOD``)
  when the OS points that way: every ``CHECK_EVERY`` seconds of work, ``probe()``
  (by default :class:`CpuMeter`: the CPU time other processes used, from
  ``/proc/stat`` minus this process's own) says how many cores are free, and a change
  clears the waits. Where the OS gives no numbers, a step rate at the current count that
  moved by ``DRIFT`` since the last trial (for ``DRIFT_WINDOWS`` windows in a row)
  brings the next trial forward instead; a count that keeps losing such trials still
  waits twice as long each time.

A trial that loses costs one window at the slower count: on a quiet 2-core machine
about 0.1 s of t-SNE work in the first ``PERIOD`` seconds, then half as much per
doubling.
"""
from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Optional

#: seconds of work at one count that make one measurement window ...
WINDOW = 0.25
#: ... and at least this many work units in it
MIN_UNITS = 2
#: after each change of count the first unit is not counted (a new thread team, cold
#: caches) when it is shorter than WARM_SECONDS (a long unit hardly feels it)
WARM_UNITS = 1
WARM_SECONDS = 0.05
#: a candidate this much faster or slower is decided on without a second window
CLEAR = 1.5
#: a neighbour count is adopted when its rate is this much higher (hysteresis) ...
MARGIN = 0.05
#: ... and this much where the OS numbers point the other way (more threads than the
#: cores others leave free, or fewer than those): one noisy trial should not override them
MARGIN_AGAINST = 0.15
#: seconds of work before a trial the OS gives no reason for (doubled per loss) ...
PERIOD = 6.0
#: ... and before one it points to
HINT_PERIOD = 0.5
#: the longest wait between two trials of one candidate
MAX_PERIOD = 60.0
#: seconds of work between two looks at the OS
CHECK_EVERY = 1.0
#: a rate at the current count that moved this much (ratio) since the last trial, for
#: DRIFT_WINDOWS windows in a row, brings the next trial forward (a count that keeps
#: losing such trials still waits twice as long each time)
DRIFT = 1.4
DRIFT_WINDOWS = 3


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup CPU quota
    (a container's ``--cpus``), at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, math.ceil(quota - 1e-9)))
    return max(1, n)


def _cgroup_quota() -> Optional[float]:
    try:   # cgroup v2: "max 100000" or "200000 100000"
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:   # cgroup v1
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _whole_machine() -> bool:
    """The OS counters below are machine-wide: they mean something for this process only
    when it may use every CPU of the machine (not in a container limited to a few)."""
    return os.path.exists("/proc/stat") and available_cores() == (os.cpu_count() or 1)


def _own_running() -> int:
    """Threads of this process that are running or runnable now."""
    n = 0
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if stat[stat.rfind(")") + 2:][:1] == "R":
                n += 1
    except OSError:
        return 1
    return max(n, 1)


def runnable_elsewhere(samples: int = 5, gap: float = 0.0005) -> Optional[float]:
    """Threads of other processes that are running or want to run now (median of a few
    reads of ``/proc/loadavg``'s running count, less this process's own); None where the
    OS does not say (not Linux, or a container that sees the whole host)."""
    if not _whole_machine():
        return None
    counts = []
    try:
        for i in range(samples):
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
            counts.append(running - _own_running())
            if i + 1 < samples:
                time.sleep(gap)
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, float(statistics.median(counts)))


def free_cores(cores: int, busy_elsewhere: Optional[float]) -> Optional[int]:
    """The thread count the OS numbers suggest: the cores others leave free, at least 1."""
    if busy_elsewhere is None:
        return None
    return int(min(cores, max(1, math.floor(cores - busy_elsewhere + 0.5))))


def start_guess(cores: int) -> tuple[int, Optional[float]]:
    """(threads to start with, threads of other processes runnable now or None)."""
    others = runnable_elsewhere()
    hint = free_cores(cores, others)
    return (cores if hint is None else hint), others


class CpuMeter:
    """CPU time other processes used since the previous call, in cores: ``/proc/stat``'s
    busy time of the whole machine minus this process's own CPU time (all its threads,
    so this engine's own spinning OpenMP threads never count as a neighbour)."""

    #: shortest interval worth a reading (``/proc/stat`` counts in 10 ms ticks)
    MIN_INTERVAL = 0.2

    def __init__(self):
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.available = _whole_machine()
        self._last = self._read() if self.available else None

    def _read(self):
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            self.available = False
            return None
        t = os.times()
        busy = (sum(v) - v[3] - v[4]) / self._hz      # all but idle and iowait
        return time.monotonic(), busy, t.user + t.system

    def __call__(self) -> Optional[float]:
        if not self.available or self._last is None:
            return None
        now = self._read()
        if now is None:
            return None
        dt = now[0] - self._last[0]
        if dt < self.MIN_INTERVAL:
            return None
        busy, own = now[1] - self._last[1], now[2] - self._last[2]
        self._last = now
        return max(0.0, (busy - own) / dt)


@dataclass
class _Window:
    units: float = 0.0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.units / self.seconds if self.seconds > 0 else 0.0

    def add(self, units: float, seconds: float) -> None:
        self.units += units
        self.seconds += seconds

    def full(self) -> bool:
        return self.seconds >= WINDOW and self.units >= MIN_UNITS


@dataclass
class Trial:
    """One comparison of ``current`` with ``candidate``, rates in work units per second."""
    at: float                     # seconds of work when it ended
    current: int
    candidate: int
    current_rate: float
    candidate_rate: float
    won: bool


class ThreadPolicy:
    """Choose an engine's thread count from its measured work rate (see the module
    docstring). Not thread-safe: one engine thread calls ``sample``.

    Parameters
    ----------
    apply : callable(int)
        Sets the thread count for the next unit of work (called from ``sample``, so on
        the engine's thread, and once from the constructor).
    cores : int
        The most threads to use.
    start : int, optional
        The count to start from (default: ``cores``).
    hint : int, optional
        The count the OS numbers pointed to when ``start`` was chosen (``start_guess``).
    probe : callable() -> float or None, optional
        Cores busy in other processes since its previous call (None: no reading).
    on_change : callable(new, previous, reason), optional
        Told when a trial changes the count.

    A trial: the last window at the current count ``n`` (measured as the run goes), one
    at the candidate ``m``, one more at ``n`` (A-B-A: a rate drifting through the run
    cancels out); ``m`` wins when its rate beats ``n``'s by ``MARGIN``. The second ``n``
    window is skipped when ``m`` is slower by ``CLEAR``, or faster by as much while the OS
    numbers point to ``m``, so a count the OS shows to be wrong is left after two windows.
    """

    def __init__(self, apply: Callable[[int], None], cores: int, *, start: Optional[int] = None,
                 hint: Optional[int] = None, probe: Optional[Callable[[], Optional[float]]] = None,
                 on_change: Optional[Callable[[int, int, str], None]] = None):
        self.cores = max(1, int(cores))
        self.threads = self._clamp(start if start is not None else self.cores)
        self._apply, self._probe, self._on_change = apply, probe, on_change
        self.work = 0.0                 # seconds of work reported so far
        self.units = 0.0
        self.trials: list[Trial] = []
        self.changes: list[tuple[float, int, int]] = []   # (work seconds, from, to)
        self.busy_elsewhere: Optional[float] = None
        self._hint = None if hint is None else self._clamp(hint)
        self._losses: dict[int, int] = {}
        self._last_trial_end = 0.0
        self._next_check = CHECK_EVERY
        self._ref_rate: Optional[float] = None    # rate at the current count, last known
        self._moved = 0                 # windows in a row off the reference rate
        self._nudged = False            # the rate moved: the next trial comes soon
        self._phase = "run"             # run | trial | back
        self._warm = 0
        self._window = _Window()        # being filled
        self._recent: Optional[_Window] = None     # the last full window at the count
        self._base: Optional[_Window] = None       # a trial's window at the current count
        self._cand_window: Optional[_Window] = None
        self._candidate = 0
        self._next_trial = self._schedule()
        self._applied = self.threads
        apply(self.threads)

    def _clamp(self, n) -> int:
        return min(self.cores, max(1, int(n)))

    @property
    def hint(self) -> Optional[int]:
        """The count the OS numbers last pointed to (None: no reading)."""
        return self._hint

    # ------------------------------------------------------------ the engine's side
    def sample(self, units: float, seconds: float) -> None:
        """``units`` of work took ``seconds`` at the current count."""
        if seconds <= 0 or units <= 0:
            return
        self.work += seconds
        self.units += units
        if self._warm:                  # the first short unit after a change: not counted
            self._warm -= 1
            if seconds < WARM_SECONDS:
                return
        w = self._window
        w.add(units, seconds)
        if self._phase == "run":
            if w.full():
                self._window_done(w)
            if self.work >= self._next_check:
                self._next_check = self.work + CHECK_EVERY
                self._look_at_os()
            if self.work >= self._next_trial and self.cores > 1 and self._recent is not None:
                self._start_trial()
        elif self._phase == "trial":
            base = self._base.rate
            # (one unit is enough: beside busy cores one step at too many threads can
            # take a quarter second, against milliseconds at the right count)
            clear_loss = w.seconds >= WINDOW / 2 and w.rate * CLEAR < base
            if not (w.full() or clear_loss):
                return
            # a clear loss ends the trial; a clear win only where the OS agrees (one
            # window against one is too noisy to leave a count on alone)
            if clear_loss or (w.rate > base * CLEAR and self._toward_hint(self._candidate)):
                self._decide(self._base, w)
            else:
                self._cand_window, self._phase = w, "back"
                self._change(self.threads)
        elif w.full():                  # "back": the current count once more
            a = self._base
            both = _Window(a.units + w.units, a.seconds + w.seconds)
            self._decide(both, self._cand_window)

    # ------------------------------------------------------------ inside
    def _change(self, n: int) -> None:
        self._window = _Window()
        if n != self._applied:
            self._warm = WARM_UNITS
            self._applied = n
            self._apply(n)

    def _window_done(self, w: _Window) -> None:
        """A full window at the current count while no trial runs."""
        self._recent, self._window = w, _Window()
        if self._ref_rate is None:
            self._ref_rate = w.rate
            return
        moved = not (1 / DRIFT < w.rate / self._ref_rate < DRIFT)
        self._moved = self._moved + 1 if moved else 0
        if self._moved >= DRIFT_WINDOWS:      # the conditions changed: look again soon
            self._moved, self._nudged, self._ref_rate = 0, True, w.rate
            self._next_trial = min(self._next_trial, self._schedule())

    def _start_trial(self) -> None:
        self._base, self._phase = self._recent, "trial"
        self._candidate = self._pick()
        self._change(self._candidate)

    def _look_at_os(self) -> None:
        if self._probe is None:
            return
        others = self._probe()
        if others is None:
            return
        if self.busy_elsewhere is not None:     # smoothed: one reading is one second
            others = 0.5 * (others + self.busy_elsewhere)
        self.busy_elsewhere = others
        hint = free_cores(self.cores, others)
        if hint != self._hint:
            self._hint = hint
            self._losses.clear()
            self._next_trial = self._schedule()

    def _neighbours(self) -> list[int]:
        n = self.threads
        return [m for m in (n - 1, n + 1) if 1 <= m <= self.cores]

    def _toward_hint(self, m: int) -> bool:
        return self._hint is not None and (self._hint - self.threads) * (m - self.threads) > 0

    def _due(self, m: int) -> float:
        # a moved rate calls for a trial soon only where the OS gives no numbers: where it
        # does, they say when things change, and beside busy cores the rate swings anyway
        nudged = self._nudged and self._hint is None
        base = HINT_PERIOD if self._toward_hint(m) or nudged else PERIOD
        return self._last_trial_end + min(MAX_PERIOD, base * 2 ** self._losses.get(m, 0))

    def _schedule(self) -> float:
        return min((self._due(m) for m in self._neighbours()), default=math.inf)

    def _pick(self) -> int:
        return min(self._neighbours(), key=self._due)

    def _decide(self, at_n: _Window, at_m: _Window) -> None:
        n, m = self.threads, self._candidate
        rate_n, rate_m = at_n.rate, at_m.rate
        against = self._hint is not None and not self._toward_hint(m) and m != self._hint
        won = rate_m > rate_n * (1 + (MARGIN_AGAINST if against else MARGIN))
        self.trials.append(Trial(self.work, n, m, rate_n, rate_m, won))
        self._phase, self._base, self._cand_window = "run", None, None
        self._last_trial_end, self._nudged, self._moved = self.work, False, 0
        if won:
            self._losses.pop(m, None)
            self._losses.pop(n, None)   # the way back gets the usual wait, not a long one
            self.threads = m
            self._ref_rate = rate_m
            self.changes.append((self.work, n, m))
        else:
            self._losses[m] = self._losses.get(m, 0) + 1
            self._ref_rate = rate_n
        self._recent = None
        self._change(self.threads)
        self._next_trial = self._schedule()
        if won and self._on_change is not None:
            self._on_change(m, n, f"{_count(m)} ran {rate_m / rate_n:.2f}x as fast as {n} here")


def _count(n: int) -> str:
    return f"{n} thread{'' if n == 1 else 's'}"


def start_reason(start: int, cores: int, others: Optional[float]) -> str:
    """Why a run starts with ``start`` threads (for its notice and info line)."""
    if cores == 1:
        return "one core available"
    if others is None:
        return f"{cores} cores; the count follows the measured speed"
    if others < 0.5:
        return f"{cores} cores, none busy elsewhere"
    busy = f"{others:g} thread{'' if others == 1 else 's'} of other programs running"
    return f"{cores} cores, {busy}"


def describe(threads: int, auto: bool, setting: str = "") -> str:
    """The info line's words: ``2 threads (auto)``, ``1 thread (n_jobs=1)``."""
    return f"{_count(threads)} ({'auto' if auto else setting})"
