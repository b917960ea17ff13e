"""The thread policy against fixed thread counts, on a quiet machine and beside busy ones.

What a notebook user runs, through the public API with a fake front end that
serialises every message and acknowledges frames (``_frontend.py``):

* ``TSNEWidget(X, n_jobs=...).run()`` on digits (1,797 points, Barnes-Hut) and on
  70,000 blobs (50-D, FFT; ``--quick``: 20,000 and fewer iterations): the
  optimisation's iterations per second (``runner.timings``; the affinities are not
  counted, they use every core whatever the setting);
* ``VAEWidget(X, image_shape=(8, 8), threads=...).train()`` on digits, the MLP and the
  convolutional model, stopped after ``--seconds``: epochs per second of training.

Settings: ``auto`` (the default: :mod:`vae_widgets._threads`) and fixed counts 1, 2 and
every core (``n_jobs=-1`` and torch's default: what the defaults were before the
policy). Conditions: quiet, one busy core, two busy cores (each busy core is a
``python -c 'while True: pass'`` process started beside). Repeats alternate: each round
visits every condition, and in each the settings in a rotated order, so a machine whose
speed drifts over minutes favours no setting. The table gives min / median / max per
setting, auto's median against the best fixed count's median (target >= 0.9) and, when
quiet, against the old default (target >= 0.95), and what auto chose in each run.

    python benchmarks/threads_under_load.py [--quick] [--reps 3] [--only tsne-2k vae-mlp ...]

On a machine other programs use as well, every number moves with their load: the
conditions here add to whatever else runs (the header prints what ran at the start).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CONDITIONS = (("quiet", 0), ("one busy core", 1), ("two busy cores", 2))


# ------------------------------------------------------------------ the workloads
def tsne_run(X, n_jobs, iters):
    from vae_widgets import TSNEWidget

    kw = {} if iters is None else dict(early_exaggeration_iter=iters[0], n_iter=iters[1])
    w = TSNEWidget(X, n_jobs=n_jobs, **kw)
    w.runner.quality_after_run = False
    w.run()
    w.wait()
    r = w.runner
    rate = r.params.total_iterations / (r.timings["early_exaggeration"] + r.timings["main"])
    chose = "→".join(str(e["threads"]) for e in r.thread_log)
    w.close()
    return rate, chose


def vae_run(X, threads, arch, seconds):
    from vae_widgets import VAEWidget

    w = VAEWidget(X, image_shape=(8, 8), architecture=arch, threads=threads, epochs=100_000)
    started = threading.Event()
    w.trainer.events.subscribe(lambda e: started.set() if e.kind == "metrics" else None)
    w.train()
    started.wait(60)
    time.sleep(seconds)        # the benchmark's clock: training runs meanwhile
    w.stop()
    w.wait()
    h = w.history
    rate = float(h.epoch.iloc[-1]) / float(h.time.iloc[-1])
    chose = "→".join(str(e["threads"]) for e in w.trainer.thread_log)
    w.close()
    return rate, chose


def workloads(quick: bool, seconds: float):
    from vae_widgets import datasets

    digits, _ = datasets.digits()
    n_big = 20_000 if quick else 70_000
    iters_big = (40, 80) if quick else (50, 150)
    big, _ = datasets.blobs(n=n_big, dims=50, clusters=10, seed=0)
    return {
        "tsne-2k": (f"t-SNE, {len(digits):,} points (digits, Barnes-Hut), 750 iterations: "
                    f"iterations/s", lambda s: tsne_run(digits, s, None)),
        "tsne-70k": (f"t-SNE, {n_big:,} points (blobs 50-D, FFT), {sum(iters_big)} "
                     f"iterations: iterations/s", lambda s: tsne_run(big, s, iters_big)),
        "vae-mlp": (f"VAE, MLP on digits, {seconds:g} s of training: epochs/s",
                    lambda s: vae_run(digits, s, "mlp", seconds)),
        "vae-conv": (f"VAE, conv on digits, {seconds:g} s of training: epochs/s",
                     lambda s: vae_run(digits, s, "conv", seconds)),
    }


# ------------------------------------------------------------------ the conditions
class Busy:
    """``k`` busy-looping processes beside this one while the block runs."""

    def __init__(self, k: int):
        self.k, self.procs = k, []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(self.k)]
        time.sleep(0.5 if self.k else 0.0)     # let them reach the run queue
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def setting_value(name: str, setting, cores: int):
    """The argument for a setting: "auto", or a count (n_jobs / threads)."""
    return "auto" if setting == "auto" else int(setting)


def label(setting, cores: int) -> str:
    if setting == "auto":
        return "auto"
    n = int(setting)
    old = " (old default)" if n == cores else ""
    return f"{n} thread{'s' if n > 1 else ''}{old}"


def main():
    sys.path.insert(0, HERE)
    import _frontend
    import openTSNE
    import torch

    from vae_widgets import _threads

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="20,000 instead of 70,000 points, 2 repeats, 3 s VAE runs")
    ap.add_argument("--reps", type=int, default=None, help="repeats (default 3; quick: 2)")
    ap.add_argument("--seconds", type=float, default=None,
                    help="seconds per VAE run (default 6; quick: 3)")
    ap.add_argument("--only", nargs="*", default=None,
                    choices=["tsne-2k", "tsne-70k", "vae-mlp", "vae-conv"])
    a = ap.parse_args()
    reps = a.reps or (2 if a.quick else 3)
    seconds = a.seconds or (3.0 if a.quick else 6.0)
    cores = _threads.available_cores()
    fixed = sorted({1, 2, cores})
    settings = ["auto"] + fixed
    print(f"{cores} cores, torch {torch.__version__} ({torch.get_num_threads()} threads by "
          f"default), openTSNE {openTSNE.__version__}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, other programs' threads "
          f"running now: {_threads.runnable_elsewhere()}; {reps} repeats", flush=True)
    _frontend.use_fake_front_end()
    loads = workloads(a.quick, seconds)
    chosen = a.only or list(loads)

    # warm up every path once (imports, thread pools, first-call costs)
    from vae_widgets import datasets
    dX, _ = datasets.digits()
    tsne_run(dX[:500], 1, (10, 10))
    vae_run(dX, 1, "mlp", 0.3)
    vae_run(dX, 1, "conv", 0.3)

    results = {w: {c: {s: [] for s in settings} for c, _ in CONDITIONS} for w in chosen}
    choices = {w: {c: [] for c, _ in CONDITIONS} for w in chosen}
    t_start = time.perf_counter()
    for rep in range(reps):
        for cond, k in CONDITIONS:
            with Busy(k):
                for w in chosen:
                    order = settings[rep % len(settings):] + settings[:rep % len(settings)]
                    for s in order:
                        rate, chose = loads[w][1](setting_value(w, s, cores))
                        results[w][cond][s].append(rate)
                        if s == "auto":
                            choices[w][cond].append(chose)
            print(f"  round {rep + 1}/{reps}, {cond}: done at "
                  f"{time.perf_counter() - t_start:.0f} s", flush=True)

    verdicts = []
    for w in chosen:
        print(f"\n== {loads[w][0]}")
        print(f"  {'condition':15s} {'setting':27s} {'min':>8s} {'median':>8s} {'max':>8s}")
        for cond, _k in CONDITIONS:
            r = results[w][cond]
            med = {s: statistics.median(v) for s, v in r.items()}
            for s in settings:
                v = r[s]
                print(f"  {cond if s == settings[0] else '':15s} {label(s, cores):27s} "
                      f"{min(v):8.1f} {med[s]:8.1f} {max(v):8.1f}")
            best = max(fixed, key=lambda s: med[s])
            ratio = med["auto"] / med[best]
            ok = ratio >= 0.9
            line = (f"  {'':15s} auto / best fixed ({label(best, cores)}): {ratio:.2f} "
                    f"(target >= 0.9: {'met' if ok else 'NOT met'})")
            verdicts.append(ok)
            if cond == "quiet":
                old = med["auto"] / med[cores]
                ok_old = old >= 0.95
                verdicts.append(ok_old)
                line += (f"; auto / old default: {old:.2f} (target >= 0.95: "
                         f"{'met' if ok_old else 'NOT met'})")
            print(line)
            print(f"  {'':15s} auto chose: {', '.join(choices[w][cond])}")
    print(f"\n{sum(verdicts)} of {len(verdicts)} targets met "
          f"({time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
