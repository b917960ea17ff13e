"""The peers, side by side, in one run: t-SNE and the VAE loop (issue 26, item 2).

**t-SNE.** On the same data, seed and thread count (``n_jobs`` = every core for all):

* ``ours``: ``TSNEWidget(X, n_jobs=..., random_state=...).run()`` + ``wait()`` through the
  public API, with a fake front end that serialises every message as the kernel does and
  acknowledges every frame (``_frontend.py``, driven by ``tsne_overhead.widget_run``);
  the time covers building the widget and the run to the finished embedding; the
  quality scores the widget computes afterwards are reported apart;
* ``openTSNE defaults``: bare ``openTSNE.TSNE(n_jobs=..., random_state=...).fit(X)``
  (its neighbours: Annoy);
* ``openTSNE, our kNN``: the same with the neighbour method ours resolves to
  (``vae_widgets.tsne.knn.choose_method``: exact up to 70,000 x 50-D);
* ``scikit-learn``: ``sklearn.manifold.TSNE(method="barnes_hut", n_jobs=-1)``, its
  defaults otherwise (PCA start, learning rate "auto", 1,000 iterations against the
  others' 750);
* ``TorchDR``: ``torchdr.TSNE(device="cpu")`` if it imports. Its CPU path has no
  approximation of the repulsion without KeOps/FAISS (dense n x n autograd), so it is
  probed at n=1,000 for 50 iterations and run at a size only when that probe, scaled
  by n^2, says a run fits ``--torchdr-budget`` seconds; otherwise the table says why.

Each run is its own subprocess (so peak RSS, ``VmHWM``, is that peer's alone; it
includes the interpreter, imports and the data, and the RSS before the fit is printed
beside it); the parent writes the data once to a ``.npy`` every child loads. Each child
warms its peer up on 500 rows before the timed fit. Rounds visit every peer in an order
rotated each round (ABCDE, BCDEA, ...). Trustworthiness (k=10) is computed afterwards,
in the parent, on a fixed 5,000-row sample (seed 0) of X and of each embedding.

The data: "digits, interpolated": the bundled 8x8 digits (1,797 rows), upsampled by
interpolating each picked row towards one of its 10 nearest neighbours (a random point
of the segment, as SMOTE does) plus Gaussian noise of 5 % of each pixel's spread, then
PCA to 50 dimensions: ten classes on curved, connected manifolds, not isotropic blobs.
Nothing downloads.

**The VAE loop.** The same MLP VAE (64-400-8, 8-400-64, Bernoulli likelihood, Adam
1e-3, batch 128) on the same data (bundled digits tiled x10: 17,970 rows, 500 held out),
in one process (torch's intra-op threads: every core, also for ``VAEWidget``), each
variant timed over the same epochs: a plain PyTorch loop (``watch_overhead.run``), that
loop again (the noise floor: plain vs plain), the loop with ``VAEWidget.watch(...)`` and
``v.log(...)`` each step (``watch_overhead.run``), ``VAEWidget(X).train()``
(``vae_overhead.widget_run``, fake front end), Lightning alone (one CPU device, a
``DataLoader`` of a ``TensorDataset``: ``lightning_overhead.MLPVAE``) and with
``v.lightning_callback()``, pythae's ``TrainingPipeline`` of pythae's ``VAE`` with its default
MLP (hidden 512, not 400: see ``_pythae_model``), alone and with ``v.pythae_callback()``
(if pythae is installed).
Samples per second; ratios per round against the plain loop of that round; the
spread of plain-vs-plain says what difference the run can resolve. (Two-process DDP and
the hook share per rank are ``lightning_overhead.py``'s job.)

The view part of the issue (our widget vs jupyter-scatter in Chromium) is not here.

Every run prints the 1-minute load average before and after; the table goes to
``benchmarks/peers.md`` (the section of this mode, quick or full, is replaced).

    python benchmarks/peers.py --quick     # under 5 minutes on a 2-core VM: t-SNE 5k, 2 rounds
    python benchmarks/peers.py             # t-SNE 10k and 70k, 3 rounds; VAE 7 rounds

The quick run takes 2.5 minutes on a quiet 2-core VM (8.5 under a load average of
4-5); the full run about an hour there (estimated from the
quick one: scikit-learn at 70k is most of it, some 9 minutes a run). The VAE section runs first and the table is
rewritten after each t-SNE size, so a run cut short keeps what it measured.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

TSNE_PEERS = ("ours", "opentsne", "opentsne-knn", "sklearn", "torchdr")
TSNE_LABELS = {
    "ours": "ours: TSNEWidget.run(), front end acking",
    "opentsne": "openTSNE defaults (Annoy kNN)",
    "opentsne-knn": "openTSNE, our kNN",
    "sklearn": "scikit-learn TSNE (Barnes-Hut, 1,000 it.)",
    "torchdr": "TorchDR TSNE (CPU)",
}
VAE_VARIANTS = ("plain", "plain-again", "watch", "widget", "lightning", "lightning-cb",
                "pythae", "pythae-cb")
VAE_LABELS = {
    "plain": "plain PyTorch loop",
    "plain-again": "plain PyTorch loop, again (noise)",
    "watch": "plain loop + VAEWidget.watch / v.log()",
    "widget": "VAEWidget(X).train()",
    "lightning": "Lightning (1 CPU device)",
    "lightning-cb": "Lightning + v.lightning_callback()",
    "pythae": "pythae TrainingPipeline",
    "pythae-cb": "pythae + v.pythae_callback()",
}
TRUST_SAMPLE = 5000
WARMUP_ROWS = 500


# ------------------------------------------------------------------ machine and load
def load1() -> float:
    return os.getloadavg()[0]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict:
    from importlib import metadata
    out = {}
    for name in ("vae_widgets", "openTSNE", "scikit-learn", "torchdr", "torch", "lightning",
                 "pythae", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def busy_elsewhere() -> str:
    """CI runs and test sessions on this machine at the moment (other agents share it)."""
    try:
        out = subprocess.run(["pgrep", "-fa", "ci/run|pytest"], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    mine = str(os.getpid())
    lines = [x for x in out.splitlines() if x and not x.startswith(mine + " ")]
    return f"{len(lines)} CI/pytest processes" if lines else "no CI/pytest processes"


# ------------------------------------------------------------------ the t-SNE data
def digits_interpolated(n: int, dims: int = 50, seed: int = 0):
    """The bundled digits upsampled to ``n`` rows along their neighbourhoods (see the
    module docstring), PCA to ``dims``; float64 rows and the digit labels."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    from vae_widgets import datasets

    D, y = datasets.digits()
    D = D.astype(np.float64)
    rng = np.random.default_rng(seed)
    nn_idx = NearestNeighbors(n_neighbors=11).fit(D).kneighbors(D, return_distance=False)[:, 1:]
    i = rng.integers(0, len(D), n)
    j = nn_idx[i, rng.integers(0, nn_idx.shape[1], n)]
    t = rng.random((n, 1))
    X = D[i] + t * (D[j] - D[i]) + rng.normal(0, 1, (n, D.shape[1])) * 0.05 * D.std(0)
    X = PCA(n_components=dims, svd_solver="full").fit_transform(X)
    return np.ascontiguousarray(X), y[i]


# ------------------------------------------------------------------ one t-SNE peer (child)
def _status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, from /proc: unlike
    ``ru_maxrss``, which Linux carries over ``execve`` from the parent's size at fork,
    these are the child's own."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _peak_mb() -> float:
    peak = _status_mb("VmHWM")
    return peak if peak == peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tsne_fit(peer: str, X, seed: int, jobs: int, iters=None):
    """One fit of ``peer``; returns (embedding, extras). ``iters``: (early, main)
    iterations instead of the defaults (tests; scikit-learn gets their sum)."""
    kw = {} if iters is None else dict(early_exaggeration_iter=iters[0], n_iter=iters[1])
    if peer == "ours":
        import tsne_overhead
        t0 = time.perf_counter()
        _, scoring, E, frames = tsne_overhead.widget_run(X, n_jobs=jobs, random_state=seed, **kw)
        total = time.perf_counter() - t0
        return E, {"scoring_s": scoring, "frames": frames, "seconds": total - scoring}
    if peer in ("opentsne", "opentsne-knn"):
        import tsne_overhead
        from vae_widgets.tsne import knn
        if peer == "opentsne-knn":
            kw["neighbors"] = knn.choose_method("auto", X.shape[0], X.shape[1], "euclidean")
        return tsne_overhead.bare_opentsne(X, n_jobs=jobs, random_state=seed, **kw), \
            {"neighbors": kw.get("neighbors", "auto (Annoy)")}
    if peer == "sklearn":
        from sklearn.manifold import TSNE
        skw = {} if iters is None else dict(max_iter=max(250, sum(iters)))
        sk_jobs = -1 if jobs >= (os.cpu_count() or 1) else jobs
        return TSNE(method="barnes_hut", n_jobs=sk_jobs, random_state=seed,
                    **skw).fit_transform(X), {}
    if peer == "torchdr":
        import torch
        import torchdr
        torch.set_num_threads(jobs)
        it = 750 if iters is None else max(10, sum(iters))
        E = torchdr.TSNE(device="cpu", max_iter=it, random_state=seed).fit_transform(
            np.asarray(X, dtype=np.float32))
        return np.asarray(E), {"iterations": it}
    raise ValueError(f"unknown peer {peer!r}")


def tsne_child(peer: str, data: str, out: str, seed: int, jobs: int, iters) -> None:
    """The subprocess of one run: load, warm up, time the fit, report peak RSS."""
    X = np.load(data)
    if peer != "torchdr":       # (TorchDR's warm-up would cost more than the probe allows)
        tsne_fit(peer, X[:WARMUP_ROWS], seed, jobs, (25, 25))
    before = _status_mb("VmRSS")
    t0 = time.perf_counter()
    E, extra = tsne_fit(peer, X, seed, jobs, iters)
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    np.save(out, np.asarray(E, dtype=np.float64))
    rec = {"seconds": seconds, "peak_mb": peak, "rss_before_mb": before}
    rec.update(extra)
    rec["seconds"] = extra.get("seconds", seconds)
    print("RESULT " + json.dumps(rec), flush=True)


def run_child(args: list, timeout: float):
    cmd = [sys.executable, os.path.abspath(__file__), "--child"] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"child {args} failed (rc {p.returncode}):\n{p.stderr[-3000:]}")


def torchdr_probe(tmp: str, jobs: int, n: int = 1000, iters: int = 50):
    """Seconds per iteration of TorchDR at ``n`` (affinities included: an upper bound),
    or the reason it cannot run."""
    try:
        importlib.import_module("torchdr")
    except Exception as e:          # not installed, or an import that fails (matplotlib)
        return None, f"not importable ({type(e).__name__}: {e})"
    X, _ = digits_interpolated(n, seed=1)
    path = os.path.join(tmp, "probe.npy")
    np.save(path, X)
    r = run_child(["tsne", "torchdr", path, path + ".E.npy", 0, jobs, iters, 0], timeout=900)
    return r["seconds"] / iters, None


def tsne_section(sizes, reps: int, peers, jobs: int, tmp: str, seed: int = 0, iters=None,
                 torchdr_budget: float = 600.0, log=print, on_size=None) -> dict:
    """Measure every peer at every size; returns {"sizes": {n: {peer: [runs]}}, "skipped":
    {peer: reason}, ...}. A run is the child's record plus "trust" (k=10, fixed sample)."""
    from tsne_overhead import trust

    res = {"sizes": {}, "skipped": {}, "data": "digits, interpolated, PCA to 50-D",
           "identical": {}}
    peers = list(peers)
    tdr_rate = None
    if "torchdr" in peers:
        tdr_rate, why = torchdr_probe(tmp, jobs)
        if why:
            res["skipped"]["torchdr"] = why
            peers.remove("torchdr")
        else:
            res["torchdr_probe_s_per_it"] = tdr_rate
            log(f"  TorchDR probe: {tdr_rate:.3f} s per iteration at n=1,000 on CPU")
    for n in sizes:
        X, _ = digits_interpolated(n, seed=seed)
        data = os.path.join(tmp, f"X{n}.npy")
        np.save(data, X)
        here = [p for p in peers]
        if "torchdr" in here:
            it = 750 if iters is None else max(10, sum(iters))
            est = tdr_rate * (n / 1000) ** 2 * it
            if est > torchdr_budget:
                here.remove("torchdr")
                res["skipped"].setdefault("torchdr", {})
                res["skipped"]["torchdr"][n] = (
                    f"estimated {est / 3600:.1f} h per run at n={n:,} ({tdr_rate:.2f} s/it "
                    f"at n=1,000, x (n/1,000)^2, {it} it.) > --torchdr-budget {torchdr_budget:g} s")
                log(f"  TorchDR skipped at n={n:,}: {res['skipped']['torchdr'][n]}")
        runs = {p: [] for p in here}
        embeddings = {}
        for rep in range(reps):
            order = here[rep % len(here):] + here[:rep % len(here)]
            for p in order:
                out = os.path.join(tmp, f"E_{p}_{n}_{rep}.npy")
                rec = run_child(["tsne", p, data, out, seed, jobs,
                                 *(iters if iters else (0, 0))], timeout=3600)
                rec["path"] = out
                runs[p].append(rec)
                log(f"  n={n:,} round {rep + 1}/{reps} {p:13s} {rec['seconds']:8.2f} s  "
                    f"peak RSS {rec['peak_mb']:7.0f} MB  (load {load1():.2f})")
            embeddings = {p: np.load(runs[p][-1]["path"]) for p in here}
        for p in here:
            for rec in runs[p]:
                rec["trust"] = float(trust(X, np.load(rec.pop("path")), n_max=TRUST_SAMPLE))
        if "ours" in embeddings and "opentsne-knn" in embeddings:
            res["identical"][n] = bool(np.array_equal(
                embeddings["ours"].astype(np.float32),
                embeddings["opentsne-knn"].astype(np.float32)))
        res["sizes"][n] = runs
        if on_size is not None:           # e.g. write the table so far
            on_size(res)
    return res


# ------------------------------------------------------------------ tables
def _mmm(v, fmt="{:.2f}") -> str:
    return " / ".join(fmt.format(x) for x in (min(v), statistics.median(v), max(v)))


def ratios(runs: dict, peer: str, base: str, key: str = "seconds") -> list:
    """Per-round ratios ``peer / base`` of ``key`` (rounds paired by index)."""
    return [a[key] / b[key] for a, b in zip(runs[peer], runs[base])]


def tsne_table(res: dict) -> list:
    lines = []
    for n, runs in res["sizes"].items():
        reps = len(next(iter(runs.values())))
        lines += [f"**t-SNE, n={n:,}** ({res['data']}; {reps} rounds, alternating)", "",
                  "| peer | wall s (min / median / max) | time / ours (min / median / max) "
                  "| peak RSS MB (before fit) | trustworthiness k=10 (median) |",
                  "|---|---|---|---|---|"]
        for p, v in runs.items():
            secs = [r["seconds"] for r in v]
            rat = _mmm(ratios(runs, p, "ours"), "{:.3f}") if "ours" in runs else "-"
            peak = statistics.median(r["peak_mb"] for r in v)
            before = statistics.median(r["rss_before_mb"] for r in v)
            tw = statistics.median(r["trust"] for r in v)
            lines.append(f"| {TSNE_LABELS[p]} | {_mmm(secs)} | {rat} | {peak:,.0f} "
                         f"({before:,.0f}) | {tw:.4f} |")
        lines.append("")
        notes = []
        if "ours" in runs:
            o = runs["ours"]
            notes.append(f"ours: {statistics.median(r['frames'] for r in o):.0f} frames sent "
                         f"and acknowledged per run; the quality scores after the run took "
                         f"{statistics.median(r['scoring_s'] for r in o):.2f} s (not in the time)")
        if "ours" in runs and "opentsne-knn" in runs:
            r = statistics.median(ratios(runs, "ours", "opentsne-knn"))
            notes.append(f"ours / openTSNE with our kNN: median {r:.3f} (target <= 1.02: "
                         f"{'met' if r <= 1.02 else 'NOT met'}); last round's embeddings "
                         f"identical: {res['identical'].get(n)}")
        if "ours" in runs and "sklearn" in runs:
            s = statistics.median(ratios(runs, "sklearn", "ours"))
            dtw = (statistics.median(r["trust"] for r in runs["ours"])
                   - statistics.median(r["trust"] for r in runs["sklearn"]))
            notes.append(f"scikit-learn / ours: {s:.2f}x the time; trustworthiness ours - "
                         f"scikit-learn {dtw:+.4f} (target at 70k: >= 6x and within 0.005)")
        lines += [f"- {x}" for x in notes] + [""]
    for p, why in res["skipped"].items():
        if isinstance(why, dict):
            for n, w in why.items():
                lines.append(f"- {TSNE_LABELS[p]} not run at n={n:,}: {w}")
        else:
            lines.append(f"- {TSNE_LABELS[p]} not run: {why}")
    if "torchdr_probe_s_per_it" in res:
        lines.append(f"- TorchDR probe: {res['torchdr_probe_s_per_it']:.3f} s per iteration at "
                     f"n=1,000 (50 iterations, affinities included)")
    return lines + [""]


# ------------------------------------------------------------------ the VAE loop
class _PythaeClock:
    """pythae ``TrainingCallback`` timing ``on_train_begin`` .. ``on_train_end``."""

    def __init__(self):
        from pythae.trainers.training_callbacks import TrainingCallback

        outer = self

        class Clock(TrainingCallback):
            def on_train_begin(self, training_config, **kw):
                outer.t0 = time.perf_counter()

            def on_train_end(self, training_config, **kw):
                outer.seconds = time.perf_counter() - outer.t0

        self.callback = Clock()


def _pythae_model():
    """pythae's own VAE with its default MLP for 8x8 inputs (64-512-8, 8-512-64, sigmoid
    output, BCE): the closest pythae gets to our 64-400-8 without a custom encoder, and
    what a pythae user starts with."""
    from pythae.models import VAE, VAEConfig

    cfg = VAEConfig(input_dim=(1, 8, 8), latent_dim=8, reconstruction_loss="bce")
    return VAE(model_config=cfg)


def _lightning_overhead():
    """``benchmarks/lightning_overhead.py``, imported: at import it wraps the hooks of
    the Lightning callback to account the time spent in them."""
    import lightning_overhead
    return lightning_overhead


class VAEBench:
    """Every variant of the VAE loop on the same data, in this process."""

    def __init__(self, epochs: int, rows=None):
        import torch

        import _frontend
        import vae_overhead as vo
        import watch_overhead as wo

        _frontend.use_fake_front_end()
        self.epochs, self.threads = epochs, torch.get_num_threads()
        self.Xtr, self.Xval = wo.load("digits-mlp")         # (17,470, 1, 8, 8), (500, ...)
        self.Xwidget, _ = vo.load("digits")                 # the same 17,970 rows, flat
        if rows:
            self.Xtr, self.Xwidget = self.Xtr[:rows], self.Xwidget[:rows + len(self.Xval)]
        self.Xflat = self.Xtr.reshape(len(self.Xtr), -1)
        self.lo, self.vo, self.wo = _lightning_overhead(), vo, wo
        import logging
        for name in ("lightning.pytorch", "lightning.fabric", "pythae"):
            logging.getLogger(name).setLevel(logging.ERROR)
        import warnings
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*GPU available.*")
        self.available = [v for v in VAE_VARIANTS if self._can(v)]
        self.skipped = {v: "pythae is not installed" for v in VAE_VARIANTS
                        if v not in self.available}

    @staticmethod
    def _can(v: str) -> bool:
        if v.startswith("pythae"):
            try:
                importlib.import_module("pythae")
            except ImportError:
                return False
        return True

    def run(self, variant: str, seed: int) -> dict:
        """One run; samples/s (and, with a callback, the share of time in its hooks)."""
        import torch
        torch.manual_seed(seed)
        if variant in ("plain", "plain-again", "watch"):
            rate, _, _, v = self.wo.run("digits-mlp", self.Xtr, self.Xval, self.epochs,
                                        variant == "watch")
            if v is not None:
                v.close()
            return {"rate": rate}
        if variant == "widget":
            kw = dict(self.vo.trainer_kwargs((8, 8), "mlp", seed), threads=self.threads)
            return {"rate": self.vo.widget_run(self.Xwidget, kw, self.epochs, True)}
        if variant.startswith("lightning"):
            return self._lightning(variant.endswith("-cb"))
        return self._pythae(variant.endswith("-cb"))

    def _lightning(self, watched: bool) -> dict:
        import lightning as L
        from torch.utils.data import DataLoader, TensorDataset

        from vae_widgets import VAEWidget
        lo = self.lo

        class Model(lo.MLPVAE):
            def setup(self, stage):      # one process: keep every thread (the parent's
                pass                      # setup shares the cores between two DDP ranks)

        model = Model()
        v = VAEWidget.watch(model, self.Xval.reshape(len(self.Xval), -1),
                            image_shape=(8, 8)) if watched else None
        with tempfile.TemporaryDirectory() as tmp:
            clock = os.path.join(tmp, "clock")
            cbs = [lo.Clock(clock, "start")]
            if v is not None:
                cbs.append(v.lightning_callback(recon_loss=lo.bce))
            cbs.append(lo.Clock(clock, "end"))
            trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=self.epochs,
                                logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, enable_model_summary=False,
                                callbacks=cbs)
            trainer.fit(model, DataLoader(TensorDataset(self.Xflat), batch_size=128,
                                          shuffle=True))
            with open(f"{clock}.0") as f:
                t = json.load(f)
        out = {"rate": len(self.Xflat) * self.epochs / t["seconds"]}
        if v is not None:
            out["hooks"] = t["hooks"] / t["seconds"]
            v.close()
        return out

    def _pythae(self, watched: bool) -> dict:
        from pythae.pipelines import TrainingPipeline
        from pythae.trainers import BaseTrainerConfig

        import logging

        from vae_widgets import VAEWidget
        model = _pythae_model()
        for name in list(logging.root.manager.loggerDict):
            if name.startswith("pythae"):            # its loggers print every epoch
                logging.getLogger(name).setLevel(logging.ERROR)
        v = VAEWidget.watch(model, self.Xval.numpy()) if watched else None
        clock = _PythaeClock()
        cbs = [clock.callback] + ([v.pythae_callback()] if v is not None else [])
        import contextlib
        import io
        quiet = io.StringIO()          # pythae logs every epoch and draws tqdm bars
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(quiet), \
                contextlib.redirect_stderr(quiet):
            cfg = BaseTrainerConfig(output_dir=tmp, num_epochs=self.epochs, no_cuda=True,
                                    per_device_train_batch_size=128, learning_rate=1e-3)
            TrainingPipeline(training_config=cfg, model=model)(
                train_data=self.Xtr.numpy(), callbacks=cbs)
        if v is not None:
            v.close()
        return {"rate": len(self.Xtr) * self.epochs / clock.seconds}


def vae_section(rounds: int, epochs: int, variants=None, rows=None, log=print) -> dict:
    bench = VAEBench(epochs, rows)
    order = [v for v in (variants or VAE_VARIANTS) if v in bench.available]
    for v in order:                       # warm-up: imports, first grids, thread pools
        bench.epochs = 1
        bench.run(v, 0)
    bench.epochs = epochs
    runs = {v: [] for v in order}
    for r in range(rounds):
        for v in order[r % len(order):] + order[:r % len(order)]:
            runs[v].append(bench.run(v, r))
        log(f"  VAE round {r + 1}/{rounds}: " + ", ".join(
            f"{v} {runs[v][-1]['rate'] / 1000:.1f}k" for v in order) + f"  (load {load1():.2f})")
    return {"runs": runs, "skipped": {k: w for k, w in bench.skipped.items()
                                      if variants is None or k in variants},
            "epochs": epochs, "rows": len(bench.Xtr), "threads": bench.threads}


def vae_table(res: dict) -> list:
    runs = res["runs"]
    rounds = len(next(iter(runs.values())))
    lines = [f"**The VAE loop** (MLP 64-400-8 on digits x10, {res['rows']:,} training rows, "
             f"{res['epochs']} epochs per run, batch 128, {res['threads']} torch threads; "
             f"{rounds} rounds, order rotated each round)", "",
             "| variant | k samples/s (min / median / max) | / plain loop (min / median / max) |",
             "|---|---|---|"]
    for v, rs in runs.items():
        rate = [r["rate"] / 1000 for r in rs]
        rat = _mmm(ratios(runs, v, "plain", "rate"), "{:.3f}") if "plain" in runs else "-"
        lines.append(f"| {VAE_LABELS[v]} | {_mmm(rate, '{:.1f}')} | {rat} |")
    lines.append("")
    if "plain" in runs and "plain-again" in runs:
        noise = ratios(runs, "plain-again", "plain", "rate")
        half = max(abs(x - 1) for x in noise)
        lines.append(f"- resolution: two identical plain loops differ by up to "
                     f"{half:.1%} per round here (plain-again / plain {_mmm(noise, '{:.3f}')}); "
                     f"a ratio within 1 +- {half:.2f} is not told apart from 1 by this run")
    if "lightning" in runs and "lightning-cb" in runs:
        r = ratios(runs, "lightning-cb", "lightning", "rate")
        h = statistics.median(x["hooks"] for x in runs["lightning-cb"])
        lines.append(f"- Lightning with / without the callback: {_mmm(r, '{:.3f}')}; time inside "
                     f"the callback's hooks: median {h:.1%} of the run")
    if "pythae" in runs and "pythae-cb" in runs:
        r = ratios(runs, "pythae-cb", "pythae", "rate")
        lines.append(f"- pythae with / without the callback: {_mmm(r, '{:.3f}')}")
    for v, why in res["skipped"].items():
        lines.append(f"- {VAE_LABELS[v]} not run: {why}")
    return lines + [""]


# ------------------------------------------------------------------ the report
def header(mode: str, command: str, jobs: int, load_before: float, load_after: float,
           busy_before: str, busy_after: str, wall: float) -> list:
    v = versions()
    return [
        f"### {mode} run, {datetime.date.today().isoformat()}",
        "",
        f"- command: `{command}`",
        f"- machine: {os.cpu_count()} cores ({cpu_model()}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"t-SNE threads {jobs} for every peer",
        "- versions: " + ", ".join(f"{k} {x}" for k, x in v.items() if x) + "; not installed: "
        + (", ".join(k for k, x in v.items() if not x) or "none"),
        f"- load average (1 min): {load_before:.2f} before, {load_after:.2f} after "
        f"({busy_before} at the start, {busy_after} at the end)",
        f"- wall time of the benchmark: {wall / 60:.1f} min",
        "",
    ]


MD_INTRO = """# The peers, side by side

Written by `benchmarks/peers.py` (see its docstring for what each row runs); each mode's
section is replaced when that mode runs again. Rerun: `pip install -e ".[peers]"`, then
`python benchmarks/peers.py --quick` (2.5 minutes on a quiet 2-core machine) or
`python benchmarks/peers.py` (about an hour).

The view part of issue 26 (our widget against jupyter-scatter in Chromium at 100k and
1M points) is **not measured here** (skipped for time; `benchmarks/tsne_1m_browser.log`
has our own 1M figures).

"""


def write_section(path: str, mode: str, lines: list) -> None:
    """Put ``lines`` between this mode's markers in ``path`` (made if missing)."""
    start, end = f"<!-- peers:{mode} -->", f"<!-- /peers:{mode} -->"
    text = open(path).read() if os.path.exists(path) else MD_INTRO
    block = "\n".join([start, *lines, end])
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="t-SNE at 5,000 rows, 2 rounds; VAE 3 epochs, 3 rounds")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    ap.add_argument("--reps", type=int, default=None, help="t-SNE rounds")
    ap.add_argument("--rounds", type=int, default=None, help="VAE rounds")
    ap.add_argument("--epochs", type=int, default=None, help="VAE epochs per run")
    ap.add_argument("--only", nargs="*", choices=["tsne", "vae"], default=["tsne", "vae"])
    ap.add_argument("--peers", nargs="*", choices=TSNE_PEERS, default=list(TSNE_PEERS))
    ap.add_argument("--torchdr-budget", type=float, default=600.0,
                    help="seconds a TorchDR run may be estimated to take at a size")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for every peer, t-SNE and torch (default: every core)")
    ap.add_argument("--out", default=os.path.join(HERE, "peers.md"))
    ap.add_argument("--section", default=None,
                    help="name of the section of --out to (re)write (default: quick or full)")
    ap.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _, peer, data, out, seed, jobs, e, m = a.child
        iters = (int(e), int(m)) if int(e) + int(m) else None
        tsne_child(peer, data, out, int(seed), int(jobs), iters)
        return
    mode = a.section or ("quick" if a.quick else "full")
    sizes = a.sizes or ([5_000] if a.quick else [10_000, 70_000])
    reps = a.reps or (2 if a.quick else 3)
    rounds = a.rounds or (3 if a.quick else 7)
    epochs = a.epochs or (3 if a.quick else 6)
    jobs = a.threads or os.cpu_count() or 1
    if a.threads and "vae" in a.only:
        import torch
        torch.set_num_threads(a.threads)
    command = "python benchmarks/peers.py " + " ".join(sys.argv[1:] if argv is None else argv)
    t_start = time.perf_counter()
    l0, busy0 = load1(), busy_elsewhere()
    print(f"{mode} run: {os.cpu_count()} cores ({cpu_model()}); 1-min load average {l0:.2f} "
          f"at the start; {busy0}", flush=True)
    vae_lines, say = [], (lambda s: print(s, flush=True))

    def save(tsne_res=None, done=False):
        """(Re)write this mode's section: what is measured so far."""
        l1, busy1 = load1(), busy_elsewhere()
        wall = time.perf_counter() - t_start
        note = [] if done else ["*(partial: written while the run went on)*", ""]
        body = vae_lines + (tsne_table(tsne_res) if tsne_res else [])
        write_section(a.out, mode, header(mode, command, jobs, l0, l1, busy0, busy1, wall)
                      + note + body)
        return l1, busy1, wall

    if "vae" in a.only:                   # first: minutes, where the t-SNE takes long
        vres = vae_section(rounds, epochs, log=say)
        vae_lines = vae_table(vres)
        say("\n".join(vae_lines))
        save()
    res = None
    if "tsne" in a.only:
        with tempfile.TemporaryDirectory() as tmp:
            res = tsne_section(sizes, reps, a.peers, jobs, tmp, torchdr_budget=a.torchdr_budget,
                               log=say, on_size=save)
        say("\n".join(tsne_table(res)))
    l1, busy1, wall = save(res, done=True)
    say(f"1-min load average {l1:.2f} at the end ({busy1}); benchmark wall time {wall:.0f} s")
    print(f"table written to {a.out}")


if __name__ == "__main__":
    main()
