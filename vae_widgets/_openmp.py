"""Keep OpenMP thread teams of different threads from throttling each other.

Why this exists (measured on a 2-core machine, torch 2.13 CPU, GNU libgomp; see
``benchmarks/vae_overhead.py``): a VAE that trains at 0.44 s on the main thread
took 0.8-1.5 s on a worker thread once torch had run on the main thread (conv:
1.4 s vs 2.8-4.6 s). Every thread that runs a parallel region becomes the master
of its own OpenMP team, and the team's threads stay alive afterwards. libgomp
counts all of them; once more threads exist than cores, every team stops
spin-waiting after ~1,000 spins instead of ~300,000 (its "throttled" spin count)
and each of the thousands of small parallel regions of a training step pays a
futex sleep and wake. A kernel's main thread that ever touched torch (every
real notebook) keeps its idle team for good, so the widget's training thread
always ran throttled; ``strace`` shows twice the futex calls.

The fix is the OpenMP 5.0 call ``omp_pause_resource_all``: it ends the *calling*
thread's idle team (its threads exit, libgomp's count drops) and the next
parallel region on that thread builds a new one (~50 µs). So:

* the thread that starts a worker (the kernel's main thread) releases its teams
  first (:func:`release_teams`, from ``Worker.start``);
* while a worker runs, the main thread releases again after every cell
  (IPython's ``post_run_cell``) and before it blocks in ``wait()``, so the user's
  own torch work in other cells slows training only while that cell runs;
* the package's own torch calls made from other threads while a model trains
  (``encode``, ``sample``, grids, ...) run on the training thread between two
  steps (see ``VAETrainer.run_between_steps``), so they make no team at all;
* a widget releases the teams of the thread that handled a message from the page
  (JupyterLab >= 4.4 hands widget messages to a kernel subshell thread), and a
  user's own loop (``LoopMonitor``) counts as training while it runs.

Environment variables (``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT``) cannot do this:
they are read once when the runtime loads and each costs speed elsewhere.
Intra-op thread counts chosen per model size were measured too: one thread on
the worker gets 0.82-0.87 of the main thread's speed; this gets 0.95-1.0.

All OpenMP runtimes loaded in the process are handled (torch bundles its own
libgomp; scikit-learn and openTSNE share another); where a runtime has no
``omp_pause_resource_all`` (older libgomp, MSVC's vcomp) nothing happens.
"""
from __future__ import annotations

import ctypes
import sys
import threading

_OMP_PAUSE_SOFT = 1

_lock = threading.Lock()
_pause_fns: list = []          # omp_pause_resource_all of every OpenMP runtime found
_scanned_libs: frozenset = frozenset()
_active = 0                     # workers running now
_hook_installed = False


def _scan() -> None:
    """Find the OpenMP runtimes loaded in this process (threadpoolctl inspects the
    loaded shared objects; ~7-20 ms, so done when a worker starts, not per cell)."""
    global _pause_fns, _scanned_libs
    try:
        from threadpoolctl import ThreadpoolController
        libs = [lc for lc in ThreadpoolController().lib_controllers
                if lc.internal_api == "openmp"]
    except Exception:   # noqa: BLE001 - no threadpoolctl, or it failed: nothing to release
        return
    paths = frozenset(lc.filepath for lc in libs)
    if paths == _scanned_libs:
        return
    fns = []
    for lc in libs:
        try:
            fn = getattr(lc.dynlib, "omp_pause_resource_all")
        except AttributeError:
            continue
        fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
        fns.append(fn)
    _pause_fns, _scanned_libs = fns, paths


def release_teams(rescan: bool = False) -> int:
    """End the calling thread's idle OpenMP teams (all runtimes); returns how many
    runtimes were asked. Safe at any point outside a parallel region (the runtime
    refuses inside one); costs microseconds."""
    if rescan or not _scanned_libs:
        with _lock:
            _scan()
    for fn in _pause_fns:
        fn(_OMP_PAUSE_SOFT)
    return len(_pause_fns)


def _after_cell(*_args) -> None:
    if _active:
        release_teams()


def after_message() -> None:
    """A widget handled a message from the page on this thread (the main thread, or a
    kernel subshell's): while something trains, end any team the handler made."""
    if _active:
        release_teams()


def _install_kernel_hook() -> None:
    """In IPython (a Jupyter kernel), release the main thread's teams after every cell
    while a worker runs."""
    global _hook_installed
    if _hook_installed:
        return
    if "IPython" not in sys.modules:    # no kernel here (a script, a DDP rank): importing
        return                          # IPython would cost ~60 ms and find none
    try:
        from IPython import get_ipython
        ip = get_ipython()
    except Exception:   # noqa: BLE001 - no IPython: scripts release in start()/wait()
        return
    if ip is None:
        return
    ip.events.register("post_run_cell", _after_cell)
    _hook_installed = True


def training_started() -> None:
    """Some thread now trains (a worker, or a user's loop on the main thread): teams that
    other threads make from now on are released after their work (``worker_starting``,
    the kernel hook, comm handlers)."""
    global _active
    with _lock:
        _active += 1
        _scan()
    _install_kernel_hook()


def training_finished() -> None:
    global _active
    with _lock:
        _active = max(0, _active - 1)


def worker_starting() -> None:
    """Called by the thread that starts a worker, just before it starts."""
    training_started()
    release_teams()


def worker_finished() -> None:
    """Called by the worker thread as its last act: its own teams go too (the thread
    may outlive the run, e.g. a host's thread pool)."""
    release_teams()
    training_finished()


def active_workers() -> int:
    return _active
