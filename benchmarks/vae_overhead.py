"""Throughput of VAETrainer (with a widget-like listener) against a plain PyTorch loop.

Same model (VAEModel, MLP 64-400-8-400-64), same data (digits, the trainer's
training split), same batch size, same epochs, same optimiser; both index the
in-memory tensor with a fresh permutation each epoch. Runs are interleaved
(plain, trainer, trainer, plain, ...) and the medians compared.

The listener does what the VAE widget does with events: it copies every
metrics row (dict + per-dimension KL list), the epoch rows, and the bytes of
every image grid.

    python benchmarks/vae_overhead.py [--epochs 30] [--reps 7] [--batch-size 128]

Prints samples/s for each, the throughput ratio (target >= 0.95) and the
validation ELBO both reach after the fixed number of epochs.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from vae_widgets import datasets
from vae_widgets.vae import VAETrainer
from vae_widgets.vae.model import VAEModel


def widget_like_listener(store: dict):
    def on_event(ev):
        d = ev.data
        if ev.kind == "metrics":
            store["rows"].extend({**r, "kl_per_dim": list(r["kl_per_dim"])} for r in d["rows"])
        elif ev.kind == "images":
            arr = d["array"]
            store["images"][d["grid"]] = (arr.tobytes(), list(arr.shape), dict(d["labels"]))
        elif ev.kind == "epoch":
            store["epochs"].append(dict(d))
        else:
            store["other"].append((ev.kind, dict(d)))
    return on_event


def run_trainer(X, epochs, batch_size, seed):
    t = VAETrainer(X, latent_dim=8, hidden=(400,), batch_size=batch_size, seed=seed,
                   likelihood="bernoulli", visuals_every=1.0)
    store = {"rows": [], "images": {}, "epochs": [], "other": []}
    t.events.subscribe(widget_like_listener(store))
    t0 = time.perf_counter()
    t.fit(epochs)
    dt = time.perf_counter() - t0
    n = len(t._train_idx) * epochs
    return n / dt, t, store


def run_plain(X, train_idx, epochs, batch_size, seed):
    torch.manual_seed(seed)
    model = VAEModel(X.shape[1], 8, architecture="mlp", hidden=(400,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt = torch.as_tensor(X[train_idx], dtype=torch.float32).contiguous()
    n = Xt.shape[0]
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n, batch_size):
            xb = Xt[perm[s:s + batch_size]]
            mu, logvar = model.encode(xb)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = model.decode(z)
            recon = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum") / xb.shape[0]
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
            loss = recon + kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    dt = time.perf_counter() - t0
    return n * epochs / dt, model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()

    X, _ = datasets.digits()
    X = X.astype(np.float64)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; digits {X.shape}, "
          f"MLP 64-400-8-400-64, batch {args.batch_size}, {args.epochs} epochs, "
          f"{args.reps} interleaved repetitions")
    # warm-up (allocator, kernels)
    probe = VAETrainer(X, latent_dim=8, hidden=(400,), visuals_every=None)
    run_plain(X, probe._train_idx, 2, args.batch_size, 0)
    run_trainer(X, 2, args.batch_size, 0)

    plain, trainer = [], []
    last = None
    for r in range(args.reps):
        order = ("plain", "trainer") if r % 2 == 0 else ("trainer", "plain")
        for which in order:
            if which == "plain":
                sps, model = run_plain(X, probe._train_idx, args.epochs, args.batch_size, r)
                plain.append(sps)
            else:
                sps, t, store = run_trainer(X, args.epochs, args.batch_size, r)
                trainer.append(sps)
                last = (t, store, model if "model" in dir() else None)
    t, store, _ = last
    mp, mt = statistics.median(plain), statistics.median(trainer)
    print(f"plain loop : median {mp:9.0f} samples/s  (runs: {', '.join(f'{v:.0f}' for v in plain)})")
    print(f"VAETrainer : median {mt:9.0f} samples/s  (runs: {', '.join(f'{v:.0f}' for v in trainer)})")
    ratio = mt / mp
    print(f"throughput ratio trainer/plain = {ratio:.3f}  (target >= 0.95: "
          f"{'met' if ratio >= 0.95 else 'NOT met'})")
    print(f"listener received {len(store['rows'])} metric rows, {len(store['epochs'])} epoch rows, "
          f"{len(store['images'])} grid kinds; listener errors: {len(t.events.listener_errors)}")

    # validation ELBO after the fixed number of epochs (same validation rows, fixed noise)
    eh = t.epoch_history
    v = t._Xval
    sps_p, model = run_plain(X, t._train_idx, args.epochs, args.batch_size, 0)
    t0 = VAETrainer(X, latent_dim=8, hidden=(400,), visuals_every=None, seed=0)
    t0.fit(args.epochs)
    ref = VAETrainer(X, latent_dim=8, hidden=(400,), visuals_every=None, seed=0)
    ref._model.load_state_dict(model.state_dict())
    print(f"validation ELBO after {args.epochs} epochs (nats per digit, higher is better): "
          f"VAETrainer seed 0 {t0.epoch_history.val_elbo.iloc[-1]:.2f} "
          f"(seed {len(plain) - 1}: {eh.val_elbo.iloc[-1]:.2f}), plain loop seed 0 "
          f"{ref.evaluate()['elbo']:.2f}; active units {t0.epoch_history.active_units.iloc[-1]}/8"
          f" (validation rows: {v.shape[0]})")


if __name__ == "__main__":
    main()
