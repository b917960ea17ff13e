"""What watching costs a user's own training loop: the same loop with and without
``v.log(...)`` every step, through the public API, in one process.

The loop is what a user writes (their own ``nn.Module`` VAE, Adam, their own losses,
in-memory tensors); the watched variant adds ``v = VAEWidget.watch(model, X_val)``
(with a fake front end that serialises every message as the kernel does, see
``_frontend.py``) and ``v.log(recon=..., mu=..., logvar=..., epoch=...)`` plus the
``v.should_stop`` check after every step. Everything the widget shows is made on the
loop's thread between steps: rows (one host copy every ``metrics_every`` steps), a
validation pass on ``X_val`` per epoch, grids at most every 2 s. Their share of the
watched run is printed, and the cost of one ``log()`` call.

Runs alternate (plain, watched, ...) and the ratio is taken per adjacent pair;
median and range over ``--pairs`` pairs. Target: watched/plain throughput >= 0.97.

    python benchmarks/watch_overhead.py [--pairs 7] [--configs digits-mlp ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class MLPVAE(nn.Module):
    def __init__(self, n, d=8, h=400):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(n, h), nn.ReLU(), nn.Linear(h, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, n))
        self.n = n

    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)

    def decode(self, z):
        return self.dec(z)


class ConvVAE(nn.Module):
    def __init__(self, side, d=8):
        super().__init__()
        q = side // 4
        self.enc = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1),
                                 nn.ReLU(), nn.Flatten(), nn.Linear(32 * q * q, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 32 * q * q), nn.ReLU(), nn.Unflatten(1, (32, q, q)),
                                 nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Flatten())

    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)

    def decode(self, z):
        return self.dec(z)


def load(name: str):
    from vae_widgets import datasets
    if name.startswith("digits"):
        X, _ = datasets.digits()
        X = np.tile(X, (10, 1)).reshape(-1, 1, 8, 8)
    else:
        X, _ = datasets.shapes(n=20_000, size=32, seed=0)
        X = X.reshape(-1, 1, 32, 32)
    X = torch.tensor(X, dtype=torch.float32)
    return X[:-500], X[-500:]


CONFIGS = {"digits-mlp": 6, "digits-conv": 3, "shapes-conv": 1}   # epochs per run


def model_for(config: str, X) -> nn.Module:
    torch.manual_seed(0)
    side = X.shape[-1]
    return MLPVAE(side * side) if config.endswith("mlp") else ConvVAE(side)


def run(config: str, Xtr, Xval, epochs: int, watched: bool, bs: int = 128):
    """One training run; returns (samples/s, seconds in grids, log() calls, v)."""
    from vae_widgets import VAEWidget

    model = model_for(config, Xtr)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    v = VAEWidget.watch(model, Xval) if watched else None
    spent = {"grids": 0.0}
    if v is not None:
        loop = v._loop
        render = loop._render

        def timed_render():
            t = time.perf_counter()
            render()
            spent["grids"] += time.perf_counter() - t
        loop._render = timed_render
    n = len(Xtr)
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, bs):
            xb = Xtr[perm[s:s + bs]]
            mu, logvar = model.encode(xb)
            x_hat = model.decode(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar))
            recon = F.binary_cross_entropy_with_logits(x_hat, xb.flatten(1), reduction="sum") / len(xb)
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            (recon + kl).backward()
            opt.step()
            if v is not None:
                v.log(recon=recon, mu=mu, logvar=logvar, epoch=epoch)
                if v.should_stop:
                    break
    if v is not None:
        v.finish()
    dt = time.perf_counter() - t0
    return n * epochs / dt, spent["grids"], dt, v


def log_call_cost(Xval) -> float:
    """Microseconds per log() call that makes no row (the common case), measured alone."""
    from vae_widgets.vae.watch import LoopMonitor
    mon = LoopMonitor(MLPVAE(64), Xval.reshape(len(Xval), -1), visuals_every=None,
                      metrics_every=10 ** 9, val_every_steps=10 ** 9)
    mu = torch.zeros(128, 8)
    recon = torch.tensor(1.0)
    k = 20000
    t0 = time.perf_counter()
    for _ in range(k):
        mon.log(recon=recon, mu=mu, logvar=mu)
        mon.monitor.window.clear()
    return (time.perf_counter() - t0) / k * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    import _frontend
    _frontend.use_fake_front_end()
    t_start = time.perf_counter()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 128; "
          f"{a.pairs} alternating pairs per configuration")
    for config in a.configs:
        Xtr, Xval = load(config)
        epochs = CONFIGS[config]
        run(config, Xtr, Xval, 1, True)                      # warm-up (imports, first grids)
        plain, watched, ratios, grid_share = [], [], [], []
        for p in range(a.pairs):
            order = (False, True) if p % 2 == 0 else (True, False)
            got = {}
            for w in order:
                rate, grids, dt, v = run(config, Xtr, Xval, epochs, w)
                got[w] = rate
                if w:
                    grid_share.append(grids / dt)
                    v.close()
            plain.append(got[False])
            watched.append(got[True])
            ratios.append(got[True] / got[False])
        r = statistics.median(ratios)
        print(f"\n== {config} ({len(Xtr):,} rows, {epochs} epochs per run)")
        print(f"  plain loop   median {statistics.median(plain) / 1000:6.1f}k samples/s")
        print(f"  with v.log() median {statistics.median(watched) / 1000:6.1f}k samples/s")
        print(f"  watched / plain: median {r:.3f} (range {min(ratios):.3f}-{max(ratios):.3f}); "
              f"target >= 0.97: {'met' if r >= 0.97 else 'NOT met'}")
        print(f"  grids drawn from the model (every 2 s): {100 * statistics.median(grid_share):.2f} % "
              f"of the watched run")
    print(f"\none log() call (no row due): {log_call_cost(load('digits')[1]):.1f} µs")
    print(f"benchmark wall time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
