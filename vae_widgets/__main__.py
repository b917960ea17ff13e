"""``python -m vae_widgets ...``: the same command line as ``vae-widgets`` (see :mod:`vae_widgets.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m vae_widgets"))
