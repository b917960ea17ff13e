"""What streaming through the bridge costs the job, measured side by side in one run.

The listener runs in its own process (as the notebook kernel would), on this machine.

(a) per event, on the engine's thread: ``events.publish`` of a KL row, a metrics
    batch, and a 20,000-point frame, with nobody listening vs with the bridge linked
    (median of interleaved blocks, µs per event); and how long the listener takes to
    have every KL row (end to end, events per second);
(b) a t-SNE run (TSNERunner, blobs 50-D, frames every 0.1 s as a widget gets them,
    KL every 25 iterations) streaming to the listener vs the same run not streaming:
    median time ratio over interleaved repetitions.

Usage:
    python benchmarks/bridge_overhead.py [--quick] [--reps 5] [--n 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from vae_widgets import datasets
from vae_widgets._stream import Control, EventBus
from vae_widgets.bridge import TOKEN_ENV, stream_to
from vae_widgets.tsne.runner import TSNERunner


# ------------------------------------------------------------------ the listener process
def serve() -> None:
    """``--serve``: listen, print the address, count events until each job closes; a line
    ``{"kl": n, ...}`` per finished job on stdout. Ends when stdin closes."""
    from vae_widgets.bridge import listen

    run = listen(token=os.environ[TOKEN_ENV], quiet=True)
    counts = {}

    def on_event(e):
        if e.kind == "link" and e.data["state"] in ("closed", "lost"):
            print(json.dumps(dict(counts, state=e.data["state"], session=e.data["session"])),
                  flush=True)
            counts.clear()
        elif e.kind != "link":
            counts[e.kind] = counts.get(e.kind, 0) + 1

    run.events.subscribe(on_event)
    print(run.address, flush=True)
    sys.stdin.read()
    run.close()


class Listener:
    def __init__(self):
        import secrets

        self.token = secrets.token_urlsafe(32)
        env = dict(os.environ, **{TOKEN_ENV: self.token})
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve"], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.address = self.proc.stdout.readline().strip()

    def job_done(self, link) -> dict:
        """What the listener received from ``link``'s job (closed, or lost)."""
        while True:
            got = json.loads(self.proc.stdout.readline())
            if got["session"] == link.session:
                return got

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


class Engine:
    def __init__(self):
        self.events, self.control = EventBus(), Control()


# ------------------------------------------------------------------ (a) per event
def per_event(listener: Listener, reps: int) -> None:
    rng = np.random.default_rng(0)
    frame = rng.random((20_000, 2)).astype(np.float32)
    rows = [{"step": i, "loss": 1.0, "recon": 0.5, "kl": 0.5, "beta": 1.0} for i in range(20)]
    cases = {
        "KL row": ("kl", lambda i: {"row": {"iteration": i, "phase": "main", "kl": 1.5,
                                            "exaggeration": 1.0, "learning_rate": 200.0}}),
        "metrics (20 rows)": ("metrics", lambda i: {"rows": rows}),
        "frame 20k points": ("frame", lambda i: {"iteration": i, "phase": "main",
                                                 "embedding": frame, "key": False}),
    }
    n = 2000
    print(f"== (a) cost of events.publish on the engine thread ({n} events a block, "
          f"median of {reps} interleaved blocks)")
    for name, (kind, make) in cases.items():
        bare, linked = [], []
        for rep in range(reps):
            for streaming in ((False, True) if rep % 2 == 0 else (True, False)):
                eng = Engine()
                link = stream_to(eng, listener.address, listener.token) if streaming else None
                if link is not None:
                    link.wait_connected(10)
                data = [make(i) for i in range(n)]
                t0 = time.perf_counter()
                for d in data:
                    eng.events.publish(kind, **d)
                dt = (time.perf_counter() - t0) / n
                (linked if streaming else bare).append(dt)
                if link is not None:
                    link.close()
                    listener.job_done(link)
        b, s = statistics.median(bare), statistics.median(linked)
        print(f"  {name:18s} not streaming {b * 1e6:7.2f} µs   streaming {s * 1e6:7.2f} µs   "
              f"cost {(s - b) * 1e6:6.2f} µs per event")

    eng = Engine()
    n = 20_000
    link = stream_to(eng, listener.address, listener.token, max_queue=n)   # keep every row
    link.wait_connected(10)
    t0 = time.perf_counter()
    for i in range(n):
        eng.events.publish("kl", row={"iteration": i, "kl": 1.0})
    link.close(timeout=60)
    got = listener.job_done(link)
    dt = time.perf_counter() - t0
    print(f"  end to end: {got.get('kl', 0):,} of {n:,} KL rows at the listener after "
          f"{dt:.2f} s ({got.get('kl', 0) / dt:,.0f} events/s); dropped "
          f"{sum(link.stats['dropped'].values())}")


# ------------------------------------------------------------------ (b) a t-SNE run
def tsne_run(listener: Listener, n: int, reps: int, jobs: int) -> None:
    X, _ = datasets.blobs(n=n, dims=50, clusters=10, seed=0)
    X = X.astype(np.float64)
    params = dict(neighbors="annoy", random_state=1, n_jobs=jobs)

    def once(streaming: bool):
        r = TSNERunner(X, **params)
        r.quality_after_run = False
        link = stream_to(r, listener.address, listener.token) if streaming else None
        if link is not None:
            link.wait_connected(10)
        t0 = time.perf_counter()
        E = r.run()
        dt = time.perf_counter() - t0
        frames = 0
        if link is not None:
            link.close()
            frames = listener.job_done(link).get("frame", 0)
        return dt, E, frames

    once(False)                                      # warm up (imports, thread pools)
    print(f"\n== (b) t-SNE n={n:,} x 50-D, {jobs} threads, annoy neighbours, "
          f"{reps} interleaved repetitions")
    bare, linked, frames, same = [], [], [], True
    for rep in range(reps):
        order = (False, True) if rep % 2 == 0 else (True, False)
        out = {s: once(s) for s in order}
        bare.append(out[False][0])
        linked.append(out[True][0])
        frames.append(out[True][2])
        same &= np.array_equal(out[False][1], out[True][1])
    b, s = statistics.median(bare), statistics.median(linked)
    print(f"  not streaming {b:6.2f} s   streaming {s:6.2f} s ({statistics.median(frames):.0f} "
          f"frames at the listener)   ratio {s / b:.3f}   per run: "
          f"{', '.join(f'{x / y:.3f}' for x, y in zip(linked, bare))}   "
          f"embeddings bit-identical: {same}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="n=3,000 and 3 repetitions")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    if a.serve:
        return serve()
    n, reps = (3_000, 3) if a.quick else (a.n, a.reps)
    listener = Listener()
    try:
        per_event(listener, reps)
        tsne_run(listener, n, reps, a.jobs)
    finally:
        listener.close()


if __name__ == "__main__":
    main()
