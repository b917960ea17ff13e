"""Helpers shared by the Lightning tests and scripts (this module holds no tests itself).

``TinyVAE`` is a real LightningModule honouring the callback's contract (training_step
returns loss, recon per row, mu, logvar, beta); it also keeps, per rank, what it
computed at each step, so a test can check what the widget shows against every rank's
own numbers. ``RankLog`` writes, at the end of fit, each rank's global step, its steps'
batch-mean reconstruction and KL terms and its pid to ``<dir>/rank<r>.json``.
Importable by spawned DDP processes (the classes pickle by reference).
"""
from __future__ import annotations

import json
import os
import pathlib
import time

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

LATENT = 3


def digits_tensor(n=None):
    from vae_widgets import datasets

    X, y = datasets.digits()
    X = torch.tensor(X, dtype=torch.float32)
    return (X, y) if n is None else (X[:n], y[:n])


class TinyVAE(L.LightningModule):
    def __init__(self, d=LATENT, beta=1.0, step_delay=0.0):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, 64))
        self.beta = beta
        self.step_delay = step_delay     # a slower step, so a test can act mid-run
        self.seen = []                    # (batch-mean recon, total KL) per step, this rank

    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)

    def decode(self, z):
        return self.dec(z)

    def training_step(self, batch, batch_idx):
        x = batch[0]
        mu, logvar = self.encode(x)
        x_hat = self.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
        recon = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        self.seen.append((recon.detach().mean().item(), kl.detach().mean().item()))
        if self.step_delay:
            time.sleep(self.step_delay)
        return {"loss": (recon + self.beta * kl).mean(), "recon": recon, "mu": mu,
                "logvar": logvar, "beta": self.beta}

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), 1e-3)


def loader(n=512, batch_size=16, X=None):
    X = digits_tensor(n)[0] if X is None else X[:n]
    return DataLoader(TensorDataset(X), batch_size=batch_size)


class RankLog(L.Callback):
    def __init__(self, directory):
        self.directory = str(directory)

    def on_train_end(self, trainer, pl_module):
        path = pathlib.Path(self.directory) / f"rank{trainer.global_rank}.json"
        path.write_text(json.dumps({"rank": trainer.global_rank, "step": trainer.global_step,
                                    "epoch": trainer.current_epoch, "pid": os.getpid(),
                                    "seen": pl_module.seen}))


class LiveSteps(L.Callback):
    """Every rank writes its global step to ``live<rank>`` after each batch."""

    def __init__(self, directory):
        self.directory = str(directory)

    def on_train_batch_end(self, trainer, pl_module, *args):
        (pathlib.Path(self.directory) / f"live{trainer.global_rank}").write_text(
            str(trainer.global_step))


def rank_logs(directory, world=2):
    d = pathlib.Path(directory)
    return [json.loads((d / f"rank{r}.json").read_text()) for r in range(world)]


def trainer(strategy="ddp_notebook", devices=2, callbacks=(), **kw):
    kw.setdefault("max_epochs", 2)
    return L.Trainer(accelerator="cpu", devices=devices, strategy=strategy, logger=False,
                     enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, callbacks=list(callbacks), **kw)


def bce(x_hat, x):
    """The validation reconstruction term (a module-level function: it pickles)."""
    return F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").sum(1)


def main(argv=None):
    """A training job streaming to a listening widget: ``python tests/support/lightning_run.py
    ADDRESS --out DIR [--strategy ddp]`` (or under ``torchrun --nproc_per_node=2``); the
    token comes from VAE_WIDGETS_TOKEN."""
    import argparse

    from vae_widgets.lightning import StreamTo

    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("--out", required=True)
    ap.add_argument("--strategy", default="ddp")
    ap.add_argument("--devices", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--step-delay", type=float, default=0.0)
    args = ap.parse_args(argv)
    X, y = digits_tensor()
    model = TinyVAE(step_delay=args.step_delay)
    stream = StreamTo(args.address, X_val=X[1500:], labels=y[1500:], image_shape=(8, 8),
                      recon_loss=bce, wait=120)
    fit = trainer(args.strategy, args.devices, [stream, RankLog(args.out)],
                  max_epochs=args.epochs)
    fit.fit(model, loader())
    if torch.distributed.is_initialized():
        # as torch asks of every job: without it a rank's gloo threads can outlive the
        # interpreter ("terminate called without an active exception", exit -6)
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
