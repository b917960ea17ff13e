"""``python -m vae_widgets demo``: copy the teaching notebooks and open JupyterLab on the quickstart.

``python -m vae_widgets demo --headless`` runs t-SNE on the bundled digits in the
terminal instead (no browser), printing progress.
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys


def notebooks_dir() -> pathlib.Path:
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here / "_notebooks", here.parent / "notebooks"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the teaching notebooks are not installed with this copy of vae_widgets")


def headless_demo() -> int:
    from . import datasets
    from .tsne.runner import TSNERunner

    X, _ = datasets.digits()
    runner = TSNERunner(X)

    def show(e):
        if e.kind == "kl":
            row = e.data["row"]
            print(f"  iteration {row['iteration']:4d}  {row['phase']:18s}  KL {row['kl']:.4f}")
        elif e.kind == "status":
            print(f"[{e.data['state']}]")
    runner.events.subscribe(show)
    runner.run()
    print("timings:", {k: round(v, 2) for k, v in runner.timings.items()})
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vae_widgets")
    sub = ap.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="open the quickstart notebook in JupyterLab")
    demo.add_argument("--dir", default="vae_widgets_demo", help="where to copy the notebooks")
    demo.add_argument("--headless", action="store_true", help="run t-SNE in the terminal instead")
    demo.add_argument("--port", type=int, default=8888)
    args = ap.parse_args(argv)
    if args.headless:
        return headless_demo()
    target = pathlib.Path(args.dir)
    target.mkdir(parents=True, exist_ok=True)
    for nb in sorted(notebooks_dir().glob("*.ipynb")):
        if not (target / nb.name).exists():
            shutil.copy(nb, target / nb.name)
    print(f"notebooks copied to {target.resolve()}; starting JupyterLab (Ctrl+C to stop)")
    cmd = [sys.executable, "-m", "jupyterlab", f"--port={args.port}", f"--notebook-dir={target}",
           "--ServerApp.default_url=/lab/tree/01_quickstart.ipynb"]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
