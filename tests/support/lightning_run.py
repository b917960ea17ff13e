"""Helpers shared by the Lightning tests and scripts (this module holds no tests itself).

``BoltsVAE``, ``TutorialVAE`` and ``ForwardOnlyVAE`` are modules written as people publish
them (the loss returned as a scalar, the terms logged). ``TinyVAE`` is a real LightningModule honouring the callback's contract (training_step
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



class BoltsVAE(L.LightningModule):
    """lightning-bolts' ``VAE`` (pl_bolts/models/autoencoders/basic_vae/basic_vae_module.py)
    as published: ``encoder`` + ``fc_mu`` + ``fc_var`` + ``decoder``, a Monte-Carlo KL
    through ``torch.distributions``, ``self.log_dict`` of the terms and the loss returned
    as a scalar. Only the resnet encoder/decoder are small MLPs here (digits, 8x8); the
    step code is upstream's, line for line. ``logged`` keeps what it logged, per step."""

    def __init__(self, input_dim=64, enc_out_dim=32, kl_coeff=0.1, latent_dim=LATENT, lr=1e-3):
        super().__init__()
        self.lr, self.kl_coeff = lr, kl_coeff
        self.encoder = nn.Sequential(nn.Linear(input_dim, enc_out_dim), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(latent_dim, enc_out_dim), nn.ReLU(),
                                     nn.Linear(enc_out_dim, input_dim))
        self.fc_mu = nn.Linear(enc_out_dim, latent_dim)
        self.fc_var = nn.Linear(enc_out_dim, latent_dim)
        self.logged = []

    def forward(self, x):
        x = self.encoder(x)
        mu = self.fc_mu(x)
        log_var = self.fc_var(x)
        p, q, z = self.sample(mu, log_var)
        return self.decoder(z)

    def _run_step(self, x):
        x = self.encoder(x)
        mu = self.fc_mu(x)
        log_var = self.fc_var(x)
        p, q, z = self.sample(mu, log_var)
        return z, self.decoder(z), p, q

    def sample(self, mu, log_var):
        std = torch.exp(log_var / 2)
        p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(std))
        q = torch.distributions.Normal(mu, std)
        z = q.rsample()
        return p, q, z

    def step(self, batch, batch_idx):
        x, y = batch
        z, x_hat, p, q = self._run_step(x)

        recon_loss = F.mse_loss(x_hat, x, reduction="mean")

        log_qz = q.log_prob(z)
        log_pz = p.log_prob(z)

        kl = log_qz - log_pz
        kl = kl.mean()
        kl *= self.kl_coeff

        loss = kl + recon_loss

        logs = {
            "recon_loss": recon_loss,
            "kl": kl,
            "loss": loss,
        }
        return loss, logs

    def training_step(self, batch, batch_idx):
        loss, logs = self.step(batch, batch_idx)
        self.log_dict({f"train_{k}": v for k, v in logs.items()}, on_step=True, on_epoch=False)
        self.logged.append({k: float(v.detach()) for k, v in logs.items()})
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class TutorialVAE(L.LightningModule):
    """A VAE as Lightning tutorials write one: ``encode``/``decode`` methods, the terms
    logged with ``self.log`` under names of its own, the loss returned as a scalar."""

    def __init__(self, d=LATENT, recon_name="recon_loss"):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, 64))
        self.recon_name = recon_name
        self.posteriors = []              # (mu, logvar) of every training step, detached

    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)

    def decode(self, z):
        return self.dec(z)

    def training_step(self, batch, batch_idx):
        x = batch[0]
        mu, logvar = self.encode(x)
        x_hat = self.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
        recon = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").sum(1).mean()
        kl = (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)).mean()
        self.posteriors.append((mu.detach().clone(), logvar.detach().clone()))
        self.log(self.recon_name, recon)
        self.log("kl", kl)
        return recon + kl

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), 1e-3)


class ForwardOnlyVAE(L.LightningModule):
    """Only ``forward(x) -> (x_hat, mu, logvar)``; ``training_step`` returns the loss."""

    def __init__(self, d=LATENT):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, 64))

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        return self.dec(mu + torch.randn_like(mu) * (0.5 * logvar).exp()), mu, logvar

    def training_step(self, batch, batch_idx):
        x = batch[0]
        x_hat, mu, logvar = self(x)
        recon = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").sum(1).mean()
        self.log("recon", recon)
        return recon + (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)).mean()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), 1e-3)

def loader(n=512, batch_size=16, X=None, with_labels=False):
    """Batches of digits: ``(x,)``, or ``(x, y)`` (as torchvision datasets give them)."""
    if not with_labels:
        X = digits_tensor(n)[0] if X is None else X[:n]
        return DataLoader(TensorDataset(X), batch_size=batch_size)
    X, y = digits_tensor(n)
    return DataLoader(TensorDataset(X, torch.as_tensor(y)), batch_size=batch_size)


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
