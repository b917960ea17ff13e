"""TSNERunner against its peers, measured side by side in one run.

(a) overhead: TSNERunner streaming frames (every 0.1 s, copied as a real view would
    receive them) and KL every 25 iterations vs bare openTSNE with the same
    parameters, neighbours and seed, at n=20,000 (target ratio <= 1.05);
(b) TSNERunner with its defaults vs bare openTSNE defaults (Annoy neighbours);
(c) vs sklearn.manifold.TSNE at n=1,797 (digits) and n=20,000: time ratio and
    trustworthiness (k=10) difference;
(d) time from run() to the first frame at n=70,000 (target < 1 s).

Repetitions are interleaved and medians reported. Usage:
    python benchmarks/tsne_overhead.py [--quick] [--reps 3]
"""
from __future__ import annotations

import argparse
import statistics
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


def runner_with_listener(X, **kw):
    r = TSNERunner(X, **kw)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="n=5,000 instead of 20,000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=["a", "b", "c", "d"], nargs="*", default=["a", "b", "c", "d"])
    a = ap.parse_args()
    n = 5_000 if a.quick else 20_000
    X, _ = datasets.blobs(n=n, dims=50, clusters=10, seed=0)
    X = X.astype(np.float64)
    jobs = 2

    # warm both paths up (imports, thread pools, FFT plans) before timing anything
    runner_with_listener(X[:2000], n_iter=50, n_jobs=jobs)
    bare_opentsne(X[:2000], n_iter=50, n_jobs=jobs)

    print(f"== (a) overhead at n={n:,}, 50-D, same neighbours (annoy), seed, {jobs} threads")
    t_run, t_bare, frames = [], [], 0
    for rep in range(a.reps):
        def ours():
            t, (E, k, _) = timed(lambda: runner_with_listener(
                X, neighbors="annoy", random_state=1, n_jobs=jobs))
            t_run.append(t)
            return E, k

        def bare():
            t, E = timed(lambda: bare_opentsne(X, neighbors="annoy", random_state=1, n_jobs=jobs))
            t_bare.append(t)
            return E
        if rep % 2 == 0:       # alternate the order so drift in machine load cancels
            (E_r, frames), E_b = ours(), bare()
        else:
            E_b, (E_r, frames) = bare(), ours()
    same = np.array_equal(E_r, E_b)
    ratio = statistics.median(t_run) / statistics.median(t_bare)
    print(f"TSNERunner {statistics.median(t_run):6.2f} s ({frames} frames)  bare openTSNE "
          f"{statistics.median(t_bare):6.2f} s  ratio {ratio:.3f} (target <= 1.05); "
          f"embeddings bit-identical: {same}")

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
