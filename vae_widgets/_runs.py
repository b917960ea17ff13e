"""The runs going on in this process: what ``vae_widgets.running()`` lists and
``vae_widgets.stop_all()`` stops.

A widget registers here when its worker thread starts (:func:`register`) and leaves
when it is closed (:func:`unregister`) or its worker ends (a run whose worker has ended,
or whose widget was freed, is dropped at the next look). Only weak references are kept:
the registry never keeps a widget, its worker or their data alive.

Nothing here knows the widgets' classes. What it asks of a registered owner:
``owner.stop()`` (the run's own stop: what its Stop button does) and
``owner._run_summary()`` (a dict with ``status``, ``progress``, ``description``); of
its worker (:class:`vae_widgets._stream.Worker`): ``alive``, ``join(timeout)`` and
``thread``.

Why runs are not stopped when their views are gone: the kernel cannot tell. Clearing a
cell's output, closing the tab or reloading the page removes views without a message to
the kernel (the model stays open so that a reopened page shows it again), and a script
never shows a view at all. A run whose every view seems gone (no frame acknowledged
for a while) only gets a notice and a log line (``StreamWidget._warn_unacked``).
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

log = logging.getLogger("vae_widgets")

#: seconds ``stop_all()`` and ``Run.stop()`` wait for the stopped runs by default (as
#: ``close()`` does)
STOP_WAIT = 10.0
#: while waiting, the stop is asked again this often: a run that was just starting when
#: it was stopped forgets stop requests made before it began (the engines clear old
#: requests at the start of a run) and would otherwise go on
RESTOP_EVERY = 0.25

_lock = threading.RLock()    # re-entrant: a widget freed (and closed) by the GC inside
_live: dict[int, "_Entry"] = {}   # a locked section unregisters from the same thread
_seq = itertools.count()


@dataclass
class _Entry:
    owner: Callable[[], Any]      # weakref.ref to the widget
    worker: Callable[[], Any]     # weakref.ref to its Worker
    started: datetime

    def resolve(self):
        """(owner, worker) while the run goes on; None once it ended or was freed."""
        owner, worker = self.owner(), self.worker()
        if owner is None or worker is None or not worker.alive:
            return None
        return owner, worker


@dataclass(frozen=True, eq=False)
class Run:
    """One run that was going on when :func:`running` looked (a read-only snapshot).

    ``str(run)`` is the line the widgets' notice uses, e.g.
    ``TSNEWidget (iteration 340/750, started 14:03:05)``.

    Attributes
    ----------
    kind : str
        The widget's class: ``"TSNEWidget"``, ``"VAEWidget"``, ``"TSNESweepWidget"``.
    status : str
        The widget's ``status`` then: ``"preparing"``, ``"affinities"``, ``"running"``,
        ``"paused"``, ... (a run that is ``"done"`` may still be scoring its result).
    progress : str
        Where it was: ``"iteration 340/750"``, ``"epoch 3.2/30"``,
        ``"perplexity 30: iteration 120/750 (panel 2/3)"``.
    started : datetime
        When its worker started (local time).
    description : str
        What it runs on, short: ``"400 points × 10 dims"``, ``"1,797 samples"``.
    """

    kind: str
    status: str
    progress: str
    started: datetime
    description: str
    _owner: Callable[[], Any] = field(repr=False)
    _worker: Callable[[], Any] = field(repr=False)

    @property
    def widget(self):
        """The widget running it (None once the widget was freed). Held weakly: keeping
        a ``Run`` does not keep its widget alive."""
        return self._owner()

    @property
    def alive(self) -> bool:
        """True while the run's worker thread is still going (now, not at the snapshot)."""
        worker = self._worker()
        return worker is not None and worker.alive

    def stop(self, wait: bool = True, timeout: float | None = STOP_WAIT) -> bool:
        """Stop this run as its Stop button does; with ``wait``, wait (at most
        ``timeout`` seconds; None: no limit) for its thread to end. True when it ended."""
        owner, worker = self._owner(), self._worker()
        if owner is None or worker is None or not worker.alive:
            return True
        owner.stop()
        return _wait_for(owner, worker, _deadline(timeout)) if wait else not worker.alive

    def __str__(self) -> str:
        parts = [] if self.status == "running" else [self.status]
        parts += [self.progress] if self.progress else []
        parts.append(f"started {self.started:%H:%M:%S}")
        return f"{self.kind} ({', '.join(parts)})"

    def __repr__(self) -> str:
        tail = f": {self.description}" if self.description else ""
        return f"<Run {self}{tail}>"


def register(owner, worker) -> None:
    """``owner``'s worker has started (a new run of the same owner replaces its last)."""
    entry = _Entry(weakref.ref(owner), weakref.ref(worker), datetime.now().astimezone())
    with _lock:
        for key, e in list(_live.items()):
            if e.owner() is owner or e.resolve() is None:   # its last run, or one gone
                _live.pop(key, None)
        _live[next(_seq)] = entry


def unregister(owner) -> None:
    """``owner`` leaves the list (it was closed); nothing happens when it is not in it."""
    with _lock:
        for key, e in list(_live.items()):
            if e.owner() is owner:
                _live.pop(key, None)


def _live_runs() -> list[tuple[Any, Any, _Entry]]:
    """(owner, worker, entry) of every run going on, oldest first; drops the rest."""
    out = []
    with _lock:
        for key, e in sorted(_live.items()):
            pair = e.resolve()
            if pair is None:
                _live.pop(key, None)
            else:
                out.append((*pair, e))
    return out


def _record(owner, entry: _Entry) -> Run:
    summary = owner._run_summary()
    return Run(kind=type(owner).__name__, status=str(summary.get("status", "")),
               progress=str(summary.get("progress", "")), started=entry.started,
               description=str(summary.get("description", "")),
               _owner=entry.owner, _worker=entry.worker)


def running() -> list[Run]:
    """The runs going on in this kernel now, oldest first.

    Every widget with a background worker (``TSNEWidget``, ``VAEWidget``,
    ``TSNESweepWidget``) is listed from its ``run()`` / ``train()`` until its work ends
    or it is closed, whether or not any view shows it: a widget whose cell was run
    again, or that was ``del``-eted, goes on running (ipywidgets keeps an open widget
    alive, since a page may still show it) and is listed here. Paused runs are listed
    too. Each :class:`Run` is a snapshot with the widget (``.widget``) and a ``stop()``.
    Not listed: jobs in other processes streamed to ``listen()`` widgets, and loops of
    your own watched by ``VAEWidget.watch`` (they run in your cell, not in the
    background).
    """
    return [_record(owner, entry) for owner, _worker, entry in _live_runs()]


def stop_all(wait: bool = True, timeout: float | None = STOP_WAIT, keep=None) -> list[Run]:
    """Stop every run going on (see :func:`running`), as each one's Stop button does.

    Parameters
    ----------
    wait : bool
        Wait for the stopped runs' threads to end (default). Each run ends within one
        iteration or training step; ``False`` returns at once.
    timeout : float or None
        The most seconds to wait for all of them together (None: no limit). A run still
        busy then (inside a long neighbour search, say) ends on its own; it is logged
        and its ``Run.alive`` is still True.
    keep : widget or list of widgets, optional
        Runs to leave going, e.g. ``stop_all(keep=w)`` stops every run but ``w``'s.

    Returns
    -------
    list of Run
        The runs it stopped, as they are afterwards (``status`` ``"stopped"`` for those
        that ended).
    """
    kept = _widgets(keep)
    runs = [(o, w, e) for o, w, e in _live_runs() if not any(o is k for k in kept)]
    for owner, _worker, _entry in runs:
        owner.stop()
    if wait:
        deadline = _deadline(timeout)
        for owner, worker, _entry in runs:
            if not _wait_for(owner, worker, deadline):
                log.warning("stop_all: %s is still busy after %s s; it ends on its own",
                            type(owner).__name__, f"{timeout:g}")
    return [_record(owner, entry) for owner, _worker, entry in runs]


def _widgets(keep) -> list:
    if keep is None:
        return []
    items = list(keep) if isinstance(keep, (list, tuple, set, frozenset)) else [keep]
    return [k.widget if isinstance(k, Run) else k for k in items]


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + max(0.0, float(timeout))


def _wait_for(owner, worker, deadline: float | None) -> bool:
    """Wait on the worker's end event until ``deadline``; True when it ended."""
    if threading.current_thread() is worker.thread:      # never wait for ourselves
        return not worker.alive
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return not worker.alive
        if worker.join(RESTOP_EVERY if left is None else min(RESTOP_EVERY, left)):
            return True
        owner.stop()        # (see RESTOP_EVERY)


def _others(owner, include_paused: bool = False) -> list[Run]:
    """The runs going on besides ``owner``'s (by default, not the paused ones)."""
    runs = [_record(o, e) for o, _w, e in _live_runs() if o is not owner]
    return [r for r in runs if include_paused or r.status != "paused"]


def _names(items: Iterable[Run], most: int = 3) -> str:
    items = list(items)
    text = ", ".join(str(r) for r in items[:most])
    return text + (f" and {len(items) - most} more" if len(items) > most else "")
