"""Soak: each widget runs for a long time against a fake front end; are memory and speed flat?

What a user does in a long session: ``VAEWidget(X).train(epochs=...)`` left running for half
an hour, ``TSNEWidget(X)`` optimising for as long, with the page open (every frame
acknowledged, as the views do once a frame is drawn; ``_frontend.FrontEndComm`` serialises
each message as the kernel would). Every ``--every`` seconds the benchmark records

- the widget's progress (VAE epochs, t-SNE iterations) per wall-clock second *and* per
  CPU-second of the process: the machine is shared (2 cores), so wall-clock rates move with
  other people's load; CPU-time rates show whether the widget itself gets slower per unit of
  work (a history rebuilt each epoch, a list scanned each frame...),
- the resident memory (``/proc/self/statm``) and the bytes the front end received,

and prints the first and the last window side by side with their ratios (target: within
10 %). The first window starts after ``--warm`` seconds so start-up (imports, allocator
growth, the first validation grids) is not counted as "the start".

    python benchmarks/soak.py                    # both widgets, 30 minutes each
    python benchmarks/soak.py --minutes 5 --widget vae
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402

from _frontend import use_fake_front_end  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def _trim() -> None:
    """Give freed heap back to the OS (glibc keeps it otherwise), so RSS shows what is held."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def soak(name, widget, progress, start, seconds, every, warm, comms, unit):
    """Run ``start()``, sample every ``every`` s for ``seconds``; stop and close the widget;
    returns the samples and the memory before the widget."""
    gc.collect()
    _trim()
    before = rss_mb()
    start()
    t0 = time.monotonic()
    samples = []
    next_at = t0 + warm
    while True:
        now = time.monotonic()
        if now >= next_at:
            samples.append(dict(t=now - t0, work=progress(), cpu=cpu_s(), rss=rss_mb(),
                                sent=sum(c.bytes for c in comms),
                                msgs=sum(c.messages for c in comms)))
            s = samples[-1]
            print(f"  {name} t={s['t']:7.0f}s  {unit}={s['work']:10.1f}  rss={s['rss']:7.1f} MB"
                  f"  sent={s['sent'] / 2**20:8.1f} MB", flush=True)
            next_at += every
            if now - t0 >= seconds + warm:
                break
        time.sleep(min(0.5, max(0.0, next_at - time.monotonic())))
    widget.stop()
    widget.wait(timeout=30)
    widget.close()
    return samples, before


def report(name, unit, samples, before, after_close):
    """``after_close``: RSS once the closed widget is no longer referenced (collected)."""
    """Rates per window; "start" and "end" are the medians of the first and the last few
    windows (a single window moves with the machine's other load)."""
    win = []
    for p, q in zip(samples, samples[1:]):
        dw, dt, dc = q["work"] - p["work"], q["t"] - p["t"], q["cpu"] - p["cpu"]
        win.append((dw / dt, dw / max(dc, 1e-9), (q["msgs"] - p["msgs"]) / dt,
                    (q["sent"] - p["sent"]) / dt / 2**10))
    k = max(1, min(5, len(win) // 3))
    start = np.median(np.array(win[:k]), axis=0)
    end = np.median(np.array(win[-k:]), axis=0)
    minutes = (samples[-1]["t"] - samples[0]["t"]) / 60
    print(f"\n{name}: {minutes:.1f} min measured, {len(win)} windows; start/end = median of "
          f"the first/last {k}")
    print(f"  {'':28s} {'start':>12s} {'end':>12s} {'end/start':>10s}")
    rows = [(f"{unit}/s (wall)", start[0], end[0]), (f"{unit} per CPU-second", start[1], end[1]),
            ("messages/s to the page", start[2], end[2]), ("KiB/s to the page", start[3], end[3]),
            ("resident memory, MB", samples[k]["rss"], samples[-1]["rss"])]
    for label, s, e in rows:
        print(f"  {label:28s} {s:12.1f} {e:12.1f} {e / s:10.3f}")
    print(f"  memory before the widget {before:.1f} MB, after close() {after_close:.1f} MB")
    return dict(wall=end[0] / start[0], cpu=end[1] / start[1],
                rss=samples[-1]["rss"] / samples[k]["rss"])


def vae(seconds, every, warm, threads):
    import torch
    from vae_widgets import VAEWidget, datasets
    if threads:
        torch.set_num_threads(threads)
    X, y = datasets.digits()
    comms = use_fake_front_end()
    v = VAEWidget(X, labels=y, latent_dim=8, epochs=10**7)
    return soak("vae", v, lambda: v.epoch, v.train, seconds, every, warm, comms, "epochs")


def tsne(seconds, every, warm, threads):
    from vae_widgets import TSNEWidget, datasets
    X, y = datasets.blobs(n=5000, dims=50)
    comms = use_fake_front_end()
    w = TSNEWidget(X, labels=y, n_iter=10**8, **({"n_jobs": threads} if threads else {}))
    return soak("tsne", w, lambda: w.iteration, w.run, seconds, every, warm, comms, "iterations")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="per widget (default 30)")
    ap.add_argument("--every", type=float, default=60.0, help="sample every N s (default 60)")
    ap.add_argument("--warm", type=float, default=60.0, help="start-up not counted (s)")
    ap.add_argument("--threads", type=int, default=1,
                    help="compute threads (torch, openTSNE); 1 by default, so that on a busy "
                         "machine the rates measure the widget's own cost per unit of work "
                         "rather than OpenMP teams waiting for cores; 0: the library default")
    ap.add_argument("--widget", choices=["vae", "tsne", "both"], default="both")
    a = ap.parse_args()
    seconds = a.minutes * 60
    results = {}
    print(f"soak: {a.minutes:g} min per widget, load {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores, threads={a.threads or 'default'}", flush=True)
    for key, name, unit, fn in [("vae", "VAEWidget.train()", "epochs", vae),
                                ("tsne", "TSNEWidget.run()", "iterations", tsne)]:
        if a.widget in (key, "both"):
            samples, before = fn(seconds, a.every, a.warm, a.threads)   # widget gone here
            gc.collect()
            _trim()
            results[key] = report(name, unit, samples, before, rss_mb())
    print(f"\nload at the end {os.getloadavg()[0]:.2f}")
    for k, r in results.items():
        flat = all(abs(r[m] - 1) <= 0.10 for m in ("cpu", "rss"))
        print(f"{k}: CPU-time rate end/start {r['cpu']:.3f}, memory end/start {r['rss']:.3f}, "
              f"wall rate end/start {r['wall']:.3f} -> {'flat' if flat else 'NOT flat'} (±10 %)")


if __name__ == "__main__":
    main()
