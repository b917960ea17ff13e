"""Run t-SNE here and stream it to a notebook listening elsewhere.

::

    VAE_WIDGETS_TOKEN=<token> python -m vae_widgets.bridge.run_tsne tcp://notebook:5555 \\
        --data points.npy --set perplexity=50 --set n_iter=1000 --out embedding.npy

``--data`` takes what ``vae-widgets report --data`` takes (digits, blobs, shapes, a
.npy or .csv file); ``--set name=value`` any :class:`~vae_widgets.tsne.params.TSNEParams`
field. The token comes from ``$VAE_WIDGETS_TOKEN`` or ``--token-file``, never from
the command line (other users can read it in ``ps``). The run starts once the
listener answers (``--wait`` seconds at most; then it runs anyway, streaming when
the notebook appears). Pause, Stop and live parameters come from the notebook.
At the end one JSON line on stdout says how it ended and what the link did.
Exit status: 0 done or stopped, 2 bad arguments, 1 the run failed.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys

import numpy as np

from .job import FRAME_INTERVAL_S, TOKEN_ENV, stream_to


def _assignment(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not name=value (e.g. perplexity=30)")
    try:
        parsed = json.loads(value)        # numbers, true/false, null
    except ValueError:
        parsed = value                    # words: "auto", "cosine", ...
    return name.strip(), parsed


def build_parser(prog: str = "python -m vae_widgets.bridge.run_tsne") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("address", help="the listener's address, e.g. tcp://127.0.0.1:5555")
    ap.add_argument("--data", required=True,
                    help="digits, blobs, shapes, or a path to a .npy or .csv file")
    ap.add_argument("-n", type=int, default=None, help="use only the first N rows")
    ap.add_argument("--set", dest="params", type=_assignment, action="append", default=[],
                    metavar="NAME=VALUE", help="a t-SNE parameter (repeatable)")
    ap.add_argument("--token-file", type=pathlib.Path, default=None,
                    help=f"read the token from this file (default: ${TOKEN_ENV})")
    ap.add_argument("--wait", type=float, default=30.0,
                    help="seconds to wait for the listener before starting anyway")
    ap.add_argument("--frame-interval", type=float, default=FRAME_INTERVAL_S,
                    help="seconds between frames sent to the notebook (latest wins)")
    ap.add_argument("--out", type=pathlib.Path, default=None,
                    help="save the final embedding here (.npy)")
    return ap


def main(argv=None, prog: str = "python -m vae_widgets.bridge.run_tsne") -> int:
    ap = build_parser(prog)
    args = ap.parse_args(argv)
    from ..datasets import DataError, load_data
    from ..tsne.runner import TSNERunner

    try:
        token = (args.token_file.read_text().strip() if args.token_file
                 else os.environ.get(TOKEN_ENV))
        if not token:
            raise ValueError(f"no token: set {TOKEN_ENV} or pass --token-file with the "
                             f"token the listener printed.")
        X, _labels, _shape, _name, desc = load_data(args.data, n=args.n)
        runner = TSNERunner(X, **dict(args.params))
        link = stream_to(runner, args.address, token, frame_interval=args.frame_interval)
    except (DataError, ValueError, TypeError, OSError) as exc:
        ap.exit(2, f"{ap.prog}: error: {exc}\n")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    print(f"t-SNE of {desc}: streaming to {args.address}", file=sys.stderr)

    def log_phase(e):               # the job's log says where the run is (a cluster job's log)
        if e.kind == "phase":
            print(f"phase {e.data['phase']} from iteration {e.data['iteration']}",
                  file=sys.stderr, flush=True)
    runner.events.subscribe(log_phase)
    if not link.wait_connected(args.wait):
        print(f"no listener answered within {args.wait:g} s; running anyway", file=sys.stderr)
    status = 1
    try:
        runner.run()
        status = 0
    except Exception as exc:  # noqa: BLE001 - already published as an "error" event
        print(f"t-SNE failed: {exc}", file=sys.stderr)
    finally:
        link.close()
    if status == 0 and args.out is not None:
        np.save(args.out, runner.embedding)
    print(json.dumps({"state": runner.state, "iteration": runner.iteration,
                      "link": link.stats}), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
