"""TSNEWidget and TSNERunner against their peers, measured side by side in one run.

(a) what a notebook user runs: ``TSNEWidget(X).run()`` + ``wait()`` on its worker
    thread, with a fake front end that serialises every message as the kernel does
    and acknowledges frames from another thread (``_frontend.py``), in a process whose
    main thread has run openTSNE (the bare runs), vs bare ``openTSNE.TSNE(...).fit``
    on the main thread with the same parameters, exact neighbours and seed; also the
    runner alone on the main thread. Time to the finished embedding; the quality
    scores the widget computes afterwards are timed separately. Pairs alternate in
    order; ratios per pair, median and range (target <= 1.02), at n=10,000 and
    20,000 (``--sizes``);
(b) TSNERunner with its defaults vs bare openTSNE defaults (Annoy neighbours);
(c) vs sklearn.manifold.TSNE at n=1,797 (digits) and n=20,000: time ratio and
    trustworthiness (k=10) difference;
(d) time from run() to the first frame at n=70,000 (target < 1 s).

Repetitions are interleaved and medians reported. Usage:
    python benchmarks/tsne_overhead.py [--quick] [--reps 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import openTSNE
from sklearn.manifold import TSNE as SklearnTSNE
from sklearn.manifold import trustworthiness

from vae_widgets import datasets
from vae_widgets.tsne.runner import TSNERunner


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def runner_with_listener(X, quality=True, **kw):
    r = TSNERunner(X, **kw)
    r.quality_after_run = quality
    received = []
    # what the widget does with a frame: keep it and turn it into bytes for the comm
    r.events.subscribe(lambda e: received.append(e.data["embedding"].tobytes())
                       if e.kind == "frame" else None)
    E = r.run()
    return E, len(received), r


def bare_opentsne(X, **kw):
    return np.asarray(openTSNE.TSNE(**kw).fit(X))


def trust(X, E, n_max=5000, seed=0):
    if len(X) > n_max:
        idx = np.random.default_rng(seed).choice(len(X), n_max, replace=False)
        X, E = X[idx], E[idx]
    return trustworthiness(X, E, n_neighbors=10)


def widget_run(X, **kw):
    """TSNEWidget through its public API: seconds to the finished embedding, seconds of
    quality scoring after it, the embedding, frames acknowledged."""
    import _frontend
    from vae_widgets import TSNEWidget

    comms = _frontend.use_fake_front_end()
    w = TSNEWidget(X, **kw)
    done = {}
    w.runner.events.subscribe(lambda e: done.setdefault("t", time.perf_counter())
                              if e.kind == "done" else None)
    t0 = time.perf_counter()
    w.run()
    w.wait()
    end = time.perf_counter()
    frames = comms[-1].frames
    E = np.array(w.embedding)
    w.close()
    return done["t"] - t0, end - done["t"], E, frames


def overhead(n: int, reps: int, jobs: int) -> None:
    X, _ = datasets.blobs(n=n, dims=50, clusters=10, seed=0)
    X = X.astype(np.float64)
    kw = dict(neighbors="exact", random_state=1, n_jobs=jobs)
    print(f"== (a) overhead at n={n:,}, 50-D, exact neighbours, same seed, {jobs} threads")
    t = {"bare": [], "widget": [], "runner": []}
    scoring, frames = [], 0
    for rep in range(reps):
        order = ["bare", "widget", "runner"]
        for which in order[rep % 3:] + order[:rep % 3]:
            if which == "bare":
                dt, E_b = timed(lambda: bare_opentsne(X, **kw))
            elif which == "runner":
                dt, (E_r, _, _) = timed(lambda: runner_with_listener(X, quality=False, **kw))
            else:
                dt, score_s, E_w, frames = widget_run(X, **kw)
                scoring.append(score_s)
            t[which].append(dt)
    for which in ("widget", "runner"):
        r = [a / b for a, b in zip(t[which], t["bare"])]
        verdict = "met" if statistics.median(r) <= 1.02 else "NOT met"
        print(f"  {which:6s} {statistics.median(t[which]):6.2f} s vs bare openTSNE "
              f"{statistics.median(t['bare']):6.2f} s: ratio median {statistics.median(r):.3f} "
              f"(range {min(r):.3f}-{max(r):.3f}, {reps} pairs); target <= 1.02: {verdict}")
    print(f"  widget: {frames} frames sent and acknowledged in the last run; quality scores "
          f"after the run {statistics.median(scoring):.2f} s (not in the ratio)")
    print(f"  embeddings: runner bit-identical to bare openTSNE: {np.array_equal(E_r, E_b)}; "
          f"widget's (float32) equal to it: {np.array_equal(E_w, E_b.astype(np.float32))}")


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="n=5,000 instead of 20,000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 20_000],
                    help="n for the overhead section (a)")
    ap.add_argument("--only", choices=["a", "b", "c", "d"], nargs="*", default=["a", "b", "c", "d"])
    a = ap.parse_args()
    n = 5_000 if a.quick else 20_000
    X, _ = datasets.blobs(n=n, dims=50, clusters=10, seed=0)
    X = X.astype(np.float64)
    jobs = 2

    # warm both paths up (imports, thread pools, FFT plans) before timing anything
    runner_with_listener(X[:2000], n_iter=50, n_jobs=jobs)
    bare_opentsne(X[:2000], n_iter=50, n_jobs=jobs)

    if "a" in a.only:
        for size in a.sizes:
            overhead(size, a.reps, jobs)

    if "b" not in a.only and "c" not in a.only and "d" not in a.only:
        return
    print(f"\n== (b) defaults at n={n:,}: TSNERunner (exact kNN below 70k) vs openTSNE (Annoy)")
    t_def, t_bdef = [], []
    for _ in range(a.reps):
        t_def.append(timed(lambda: runner_with_listener(X, random_state=1, n_jobs=jobs))[0])
        t_bdef.append(timed(lambda: bare_opentsne(X, random_state=1, n_jobs=jobs))[0])
    print(f"TSNERunner {statistics.median(t_def):6.2f} s  bare openTSNE "
          f"{statistics.median(t_bdef):6.2f} s  ratio "
          f"{statistics.median(t_def) / statistics.median(t_bdef):.3f}")

    print("\n== (c) vs scikit-learn TSNE (Barnes-Hut, 1000 iterations, n_jobs=2)")
    Xd, _ = datasets.digits()
    for name, data in (("digits n=1,797", Xd.astype(np.float64)), (f"blobs n={n:,}", X)):
        reps = a.reps if len(data) < 5000 else 1
        t_ours, t_sk = [], []
        for _ in range(reps):
            t, (E_o, _, _) = timed(lambda: runner_with_listener(data, random_state=1, n_jobs=jobs))
            t_ours.append(t)
            t, E_s = timed(lambda: SklearnTSNE(random_state=1, n_jobs=jobs, init="pca")
                           .fit_transform(data))
            t_sk.append(t)
        tw_o, tw_s = trust(data, E_o), trust(data, E_s)
        print(f"{name:16s} TSNERunner {statistics.median(t_ours):6.2f} s  sklearn "
              f"{statistics.median(t_sk):6.2f} s  time ratio "
              f"{statistics.median(t_ours) / statistics.median(t_sk):.3f}  trustworthiness "
              f"{tw_o:.4f} vs {tw_s:.4f} (diff {tw_o - tw_s:+.4f})")

    print("\n== (d) run() to the first frame, n=70,000 x 50-D")
    X70, _ = datasets.blobs(n=70_000, dims=50, clusters=10, seed=0)
    r = TSNERunner(X70, n_jobs=jobs)
    first = {}
    t0 = time.perf_counter()

    def on_event(e):
        if e.kind == "frame" and "t" not in first:
            first["t"] = time.perf_counter() - t0
            r.stop()
    r.events.subscribe(on_event)
    r.run()
    print(f"first frame after {first['t'] * 1000:.0f} ms (target < 1000 ms)")


if __name__ == "__main__":
    main()
