"""The ``vae-widgets`` command (also ``python -m vae_widgets``).

``vae-widgets demo``
    Copy the teaching notebooks to a working folder and open JupyterLab on the
    quickstart (``--headless``: run t-SNE on the digits in the terminal instead).
``vae-widgets report --data digits --out report.html``
    Train a VAE and run t-SNE (of the data and of the VAE's latent means) with no
    Jupyter at all, with progress bars, and write one offline Bokeh HTML report.

Bad arguments print a clear message and exit with status 2 (argparse's convention).
"""
from __future__ import annotations

import argparse
import math
import pathlib
import shutil
import subprocess
import sys
import time

from .datasets import DATA_NAMES, DataError, load_data  # noqa: F401 (the CLI's --data)

#: the default report trains for about this many samples (epochs x training rows)
REPORT_SAMPLES = 50_000


# ---------------------------------------------------------------- progress
class Progress:
    """A progress bar on stderr: tqdm when installed, else a plain text bar."""

    def __init__(self, total: float, desc: str, unit: str = "it", stream=None):
        self.total, self.desc, self.n = float(total), desc, 0.0
        self.stream = stream or sys.stderr
        self._bar = None
        self._last = -1.0
        try:
            from tqdm import tqdm
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, leave=True)
        except ImportError:
            pass

    def update_to(self, n: float, note: str = "") -> None:
        n = min(float(n), self.total)
        if self._bar is not None:
            self._bar.update(n - self._bar.n)
            if note:
                self._bar.set_postfix_str(note, refresh=False)
            return
        self.n = n
        frac = n / self.total if self.total else 1.0
        if frac - self._last < 0.02 and frac < 1.0:   # at most ~50 redraws
            return
        self._last = frac
        filled = int(round(frac * 30))
        self.stream.write(f"\r{self.desc:<22} [{'#' * filled}{'.' * (30 - filled)}] "
                          f"{frac * 100:5.1f}%  {note:<28}")
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            self.update_to(self.total)
            self.stream.write("\n")
            self.stream.flush()


def _parse_shape(text: str):
    try:
        shape = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape such as 8,8 or 3,32,32")
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape such as 8,8 or 3,32,32")
    return shape


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return v


# ---------------------------------------------------------------- report
def run_tsne(X, desc: str, **params):
    """t-SNE with a progress bar (affinities, then iterations); returns the runner."""
    from .tsne.runner import TSNERunner

    runner = TSNERunner(X, **params)
    total = runner.params.total_iterations
    bar = Progress(total, desc)

    def show(e):
        if e.kind == "progress":
            bar.update_to(0, f"affinities {e.data['fraction'] * 100:3.0f}%")
        elif e.kind == "kl":
            row = e.data["row"]
            bar.update_to(row["iteration"], f"KL {row['kl']:.3f}")
    runner.events.subscribe(show)
    try:
        runner.run()
    finally:
        bar.close()
    return runner


def train_vae(X, labels, image_shape, epochs: int, **params):
    """Train a VAE with a progress bar over epochs; returns the trainer."""
    from .vae.trainer import VAETrainer

    trainer = VAETrainer(X, labels=labels, image_shape=image_shape, **params)
    bar = Progress(epochs, "VAE training", unit="epoch")

    def show(e):
        if e.kind == "metrics" and e.data["rows"]:
            row = e.data["rows"][-1]
            bar.update_to(row["epoch"], f"-ELBO {-row['elbo']:.2f}")
    trainer.events.subscribe(show)
    try:
        trainer.fit(epochs)
    finally:
        bar.close()
    return trainer


def report(args) -> int:
    from . import export

    out = pathlib.Path(args.out)
    if out.is_dir() or not out.parent.exists():
        raise DataError(f"--out {args.out!r}: give a file name in an existing folder.")
    t0, cpu0 = time.perf_counter(), time.process_time()
    X, y, shape, label_name, what = load_data(args.data, labels_column=args.labels,
                                              image_shape=args.image_shape, n=args.n)
    print(f"data: {what}", file=sys.stderr)
    timings = {}
    if args.epochs is None:     # small data needs many epochs to learn anything
        args.epochs = min(100, max(5, math.ceil(REPORT_SAMPLES / (0.9 * len(X)))))
    t = time.perf_counter()
    trainer = train_vae(X, y, shape, args.epochs, latent_dim=args.latent_dim, seed=args.seed)
    timings["VAE"] = time.perf_counter() - t
    tsne_params = dict(random_state=args.seed)
    if args.tsne_iter:
        tsne_params.update(n_iter=args.tsne_iter,
                           early_exaggeration_iter=min(250, max(1, args.tsne_iter // 3)))
    t = time.perf_counter()
    data_tsne = run_tsne(trainer.data, "t-SNE of the data", **tsne_params)
    timings["t-SNE (data)"] = time.perf_counter() - t
    t = time.perf_counter()
    mu, _ = trainer.encode(trainer.data, labels=trainer.labels if trainer.conditional else None)
    latent_tsne = run_tsne(mu, "t-SNE of latent means", **tsne_params)
    timings["t-SNE (latent)"] = time.perf_counter() - t

    from bokeh.layouts import column

    from ._images import as_uint8_images
    from .export import heading, note

    images = as_uint8_images(trainer.data, shape) if shape is not None else None
    common = dict(labels=y, label_name=label_name, images=images)
    t = time.perf_counter()
    page = column(
        heading(f"vae_widgets report: {what}", level=2),
        note(f"VAE: {args.epochs} epochs, {args.latent_dim} latent dimensions. t-SNE: "
             f"{data_tsne.params.total_iterations} iterations. Computed in "
             + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + "."),
        export.to_bokeh(trainer, title="VAE training"),
        export.tsne_layout(data_tsne.embedding, history=data_tsne.history_frame,
                           marks=data_tsne.marks, title="t-SNE of the data", **common),
        export.tsne_layout(latent_tsne.embedding, history=latent_tsne.history_frame,
                           marks=latent_tsne.marks, title="t-SNE of the VAE's latent means",
                           **common),
    )
    export.save_html(page, out, title=f"vae_widgets report: {what}")
    timings["export"] = time.perf_counter() - t
    size = out.stat().st_size
    # CPU seconds too: on a shared machine the wall time says little about the work
    print(f"wrote {out} ({size / 1e6:.2f} MB) in {time.perf_counter() - t0:.1f} s "
          f"({time.process_time() - cpu0:.1f} s CPU; "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + ")")
    return 0


# ---------------------------------------------------------------- demo
def notebooks_dir() -> pathlib.Path:
    """Where the teaching notebooks are: inside the wheel, or the source checkout."""
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here / "_notebooks", here.parent / "notebooks"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the teaching notebooks are not installed with this copy of vae_widgets")


def copy_notebooks(target) -> list[pathlib.Path]:
    """Copy the teaching notebooks into ``target`` (kept when already there: edits survive)."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for nb in sorted(notebooks_dir().glob("*.ipynb")):
        if not (target / nb.name).exists():
            shutil.copy(nb, target / nb.name)
            copied.append(target / nb.name)
    return copied


def lab_command(target, port: int, browser: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "jupyterlab", f"--port={port}", f"--notebook-dir={target}",
           "--ServerApp.default_url=/lab/tree/01_quickstart.ipynb"]
    if not browser:
        cmd.append("--no-browser")
    return cmd


def headless_demo(n_iter=None) -> int:
    """t-SNE of the digits in the terminal: KL per evaluated iteration, then timings."""
    from . import datasets
    from .tsne.runner import TSNERunner

    X, _ = datasets.digits()
    params = {} if n_iter is None else dict(
        n_iter=n_iter, early_exaggeration_iter=min(250, max(1, n_iter // 3)))
    runner = TSNERunner(X, **params)

    def show(e):
        if e.kind == "kl":
            row = e.data["row"]
            print(f"  iteration {row['iteration']:4d}  {row['phase']:18s}  KL {row['kl']:.4f}",
                  flush=True)
        elif e.kind == "status":
            print(f"[{e.data['state']}]", flush=True)
    runner.events.subscribe(show)
    runner.run()
    print("timings:", {k: round(v, 2) for k, v in runner.timings.items()})
    return 0


def demo(args) -> int:
    if args.headless:
        return headless_demo(args.tsne_iter)
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise DataError("demo: JupyterLab is not installed; `pip install jupyterlab`, or "
                        "run `vae-widgets demo --headless`.") from None
    target = pathlib.Path(args.dir)
    copy_notebooks(target)
    print(f"notebooks copied to {target.resolve()}; starting JupyterLab (Ctrl+C to stop)")
    return subprocess.call(lab_command(target, args.port, browser=not args.no_browser))


# ---------------------------------------------------------------- entry point
def build_parser(prog: str = "vae-widgets") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description="Watch a VAE train and t-SNE optimise.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="{demo,report}")
    d = sub.add_parser("demo", help="open the quickstart notebook in JupyterLab")
    d.add_argument("--dir", default="vae_widgets_demo", help="where to copy the notebooks")
    d.add_argument("--headless", action="store_true", help="run t-SNE in the terminal instead")
    d.add_argument("--no-browser", action="store_true", help="start JupyterLab without a browser")
    d.add_argument("--port", type=_positive_int, default=8888)
    d.add_argument("--tsne-iter", type=_positive_int, default=None,
                   help="with --headless: t-SNE iterations (default: openTSNE's)")
    r = sub.add_parser("report", help="train a VAE and run t-SNE headless; write an HTML report")
    r.add_argument("--data", required=True,
                   help=f"{', '.join(DATA_NAMES)}, or a path to a .npy or .csv file")
    r.add_argument("--out", default="report.html", help="the HTML file to write")
    r.add_argument("--epochs", type=_positive_int, default=None,
                   help=f"VAE epochs (default: enough for about {REPORT_SAMPLES:,} training "
                        f"samples, between 5 and 100; 31 on digits)")
    r.add_argument("--latent-dim", type=_positive_int, default=8)
    r.add_argument("--tsne-iter", type=_positive_int, default=None,
                   help="t-SNE iterations in total (default: openTSNE's 250 + 500)")
    r.add_argument("--labels", default=None, help="CSV column holding the labels")
    r.add_argument("--image-shape", type=_parse_shape, default=None,
                   help="H,W or C,H,W: show rows as images (thumbnails, grids)")
    r.add_argument("-n", type=_positive_int, default=None, help="use only the first N rows")
    r.add_argument("--seed", type=int, default=0)
    return ap


def main(argv=None, prog: str = "vae-widgets") -> int:
    """Run the command line; returns the exit status (also used by ``python -m vae_widgets``)."""
    ap = build_parser(prog)
    args = ap.parse_args(argv)
    try:
        return (demo if args.command == "demo" else report)(args)
    except (DataError, ValueError, TypeError) as exc:
        # the engines' own checks name the argument and the fix: show them, no traceback
        ap.exit(2, f"{ap.prog} {args.command}: error: {exc}\n")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
