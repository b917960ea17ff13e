"""Throughput of VAETrainer (with a widget-like listener) against a plain PyTorch loop.

Same model (VAEModel, MLP 64-400-8-400-64), same data (digits: the trainer's
1,617 training rows), same batch size, same epochs, same optimiser (the
trainer's Adam, see ``make_optimizer``); both index the in-memory tensor with a
fresh permutation each epoch. Two more lines for context: the plain loop
plus the validation ELBO/active units that the trainer computes, on the trainer's
schedule (``val_every="auto"``: every 3rd epoch on digits, and the last) (so
the difference is the event stream and diagnostics alone), and a plain loop
with torch's default (non-fused) Adam, i.e. what a hand-written loop usually is.

The trainer runs with its defaults: metrics every 10 steps, validation ELBO and
active units every 3rd epoch and the last, the four image grids every second and at the end of
``fit``, and a listener that does what the VAE widget does with the
events: it copies every metrics row (dict + per-dimension KL list), the epoch
rows, and the bytes of every image grid.

Runs are interleaved in triples (plain, trainer, plain+validation) in rotating
order. The machine may be shared and its speed drifts, so the verdict uses the
median of the ratios between runs of the same triple (adjacent in time); the
ratio of the medians is printed too. Last, one more trainer run with its parts
timed shows where its extra time goes, and both reach a validation ELBO after
``--elbo-epochs`` epochs.

    python benchmarks/vae_overhead.py [--epochs 20] [--triples 41] [--batch-size 128] [--threads N]
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
from vae_widgets.vae.trainer import make_optimizer

HIDDEN, LATENT = (400,), 8


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


def make_trainer(X, batch_size, seed, **kw):
    return VAETrainer(X, latent_dim=LATENT, hidden=HIDDEN, batch_size=batch_size, seed=seed,
                      likelihood="bernoulli", **kw)


def run_trainer(X, epochs, batch_size, seed):
    t = make_trainer(X, batch_size, seed)
    store = {"rows": [], "images": {}, "epochs": [], "other": []}
    t.events.subscribe(widget_like_listener(store))
    t0 = time.perf_counter()
    t.fit(epochs)
    dt = time.perf_counter() - t0
    return len(t._train_idx) * epochs / dt, t, store


def run_plain(Xtrain, epochs, batch_size, seed, default_adam=False, Xval=None, val_every=1):
    """A hand-written loop; with ``Xval`` it also computes the validation ELBO and active
    units after epochs 1, 1 + val_every, ... and the last, as the trainer does."""
    torch.manual_seed(seed)
    model = VAEModel(Xtrain.shape[1], LATENT, architecture="mlp", hidden=HIDDEN)
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if default_adam
           else make_optimizer(model.parameters(), 1e-3))
    X = torch.as_tensor(Xtrain, dtype=torch.float32).contiguous()
    V = None if Xval is None else torch.as_tensor(Xval, dtype=torch.float32).contiguous()
    val_log = []
    n = X.shape[0]
    t0 = time.perf_counter()
    for ep in range(1, epochs + 1):
        perm = torch.randperm(n)
        for s in range(0, n, batch_size):
            xb = X[perm[s:s + batch_size]]
            mu, logvar = model.encode(xb)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = model.decode(z)
            recon = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum") / xb.shape[0]
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
            loss = recon + kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if V is not None and ((ep - 1) % val_every == 0 or ep == epochs):
            with torch.no_grad():
                mu, logvar = model.encode(V)
                logits = model.decode(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar))
                recon = F.binary_cross_entropy_with_logits(logits, V, reduction="sum") / len(V)
                kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)
                active = (mu.var(0, unbiased=False) > 0.01).sum()
                val_log.append(torch.cat([recon.reshape(1), kl, active.reshape(1)]).tolist())
    dt = time.perf_counter() - t0
    return n * epochs / dt, model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20, help="epochs per timed run")
    ap.add_argument("--triples", type=int, default=41,
                    help="interleaved repetitions (41: the median ratio moves by about ±0.02 "
                         "between invocations on this noisy 2-core machine)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--elbo-epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    t_start = time.perf_counter()

    X, _ = datasets.digits()
    probe = make_trainer(X, args.batch_size, 0, visuals_every=None)
    Xtrain = X[probe._train_idx]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; digits {X.shape} "
          f"({len(Xtrain)} training rows), MLP 64-400-8-400-64, Bernoulli, batch "
          f"{args.batch_size}, {args.epochs} epochs per run, {args.triples} interleaved triples")
    run_plain(Xtrain, 2, args.batch_size, 0)            # warm-up
    run_trainer(X, 2, args.batch_size, 0)

    Xval = X[probe._val_idx]
    # the trainer's validation schedule (val_every="auto"), copied by the plain+validation loop
    val_every = probe.validation_interval
    print(f"trainer validates every {val_every} epochs (val_every='auto', "
          f"{len(Xtrain)} training rows) and after the last")
    plain, trainer, default, withval, ratios, ratios_val = [], [], [], [], [], []
    store = t = None
    orders = [("plain", "trainer", "withval"), ("trainer", "withval", "plain"),
              ("withval", "plain", "trainer")]
    for r in range(args.triples):
        got = {}
        for which in orders[r % 3]:        # rotate the order so no variant always goes first
            if which == "plain":
                got[which] = run_plain(Xtrain, args.epochs, args.batch_size, r)[0]
            elif which == "withval":
                got[which] = run_plain(Xtrain, args.epochs, args.batch_size, r, Xval=Xval,
                                       val_every=val_every)[0]
            else:
                got[which], t, store = run_trainer(X, args.epochs, args.batch_size, r)
        plain.append(got["plain"])
        trainer.append(got["trainer"])
        withval.append(got["withval"])
        ratios.append(got["trainer"] / got["plain"])
        ratios_val.append(got["trainer"] / got["withval"])
        if r % 3 == 0:
            default.append(run_plain(Xtrain, args.epochs, args.batch_size, r, True)[0])

    def fmt(v):
        return ", ".join(f"{x / 1000:.1f}k" for x in v)

    mp, mt, md = statistics.median(plain), statistics.median(trainer), statistics.median(default)
    mv = statistics.median(withval)
    print(f"plain loop (same Adam)          : median {mp:7.0f} samples/s  runs {fmt(plain)}")
    print(f"VAETrainer + widget listener    : median {mt:7.0f} samples/s  runs {fmt(trainer)}")
    print(f"plain loop + validation ELBO    : median {mv:7.0f} samples/s  runs {fmt(withval)}")
    print(f"plain loop (torch default Adam) : median {md:7.0f} samples/s  runs {fmt(default)}")
    ratio, pair_ratio = mt / mp, statistics.median(ratios)
    verdict = "met" if pair_ratio >= 0.95 else "NOT met"
    print(f"throughput ratio trainer / bare plain loop: {ratio:.3f} (ratio of medians), "
          f"{pair_ratio:.3f} (median of adjacent-run ratios; quartiles "
          f"{np.percentile(ratios, 25):.3f}-{np.percentile(ratios, 75):.3f}); target >= 0.95: "
          f"{verdict}")
    vr = statistics.median(ratios_val)
    print(f"throughput ratio trainer / plain loop with the same validation: "
          f"{mt / mv:.3f} (ratio of medians), {vr:.3f} (median of adjacent-run ratios; "
          f"quartiles {np.percentile(ratios_val, 25):.3f}-{np.percentile(ratios_val, 75):.3f}); "
          f"target >= 0.95: {'met' if vr >= 0.95 else 'NOT met'}")
    print(f"trainer vs a default-Adam plain loop: {mt / md:.3f}")
    print(f"last listener: {len(store['rows'])} metric rows, {len(store['epochs'])} epoch rows, "
          f"grids {sorted(store['images'])}; listener errors: {len(t.events.listener_errors)}")

    # where the trainer's extra time goes (one more run with its parts timed)
    tb = make_trainer(X, args.batch_size, 0)
    tb.events.subscribe(widget_like_listener({"rows": [], "images": {}, "epochs": [],
                                              "other": []}))
    spent = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            c = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - c
        return wrapper

    tb._evaluate = timed("validation", tb._evaluate)
    tb._sync = timed(f"metric rows (every {tb.config.metrics_every} steps + epoch ends)",
                     tb._sync)
    tb._render = timed("image grids", tb._render)
    c = time.perf_counter()
    tb.fit(args.epochs)
    total = time.perf_counter() - c
    print("inside one trainer run: " + ", ".join(
        f"{k} {100 * v / total:.1f} %" for k, v in spent.items()) + " of its time")

    # validation ELBO after a fixed number of epochs (same validation rows, fixed noise)
    e = args.elbo_epochs
    tr = make_trainer(X, args.batch_size, 0, visuals_every=None)
    tr.fit(e)
    _, model = run_plain(Xtrain, e, args.batch_size, 0)
    ref = make_trainer(X, args.batch_size, 0, visuals_every=None)
    ref.model.load_state_dict(model.state_dict())
    last = tr.epoch_history.iloc[-1]
    print(f"validation ELBO on digits after {e} epochs (nats per image, {len(tr._val_idx)} "
          f"validation rows): VAETrainer {last.val_elbo:.2f} (recon {last.val_recon:.2f}, KL "
          f"{last.val_kl:.2f}, {last.active_units}/{LATENT} active units); plain loop "
          f"{ref.evaluate()['elbo']:.2f}")
    print(f"benchmark wall time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
