"""t-SNE parameters: every default and every check, in one place."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Union

import numpy as np

from .._validation import choice, number, unknown_name

INITIALIZATIONS = ("pca", "spectral", "random")
NEIGHBORS = ("auto", "exact", "annoy", "pynndescent", "approx")
GRADIENT_METHODS = ("auto", "bh", "fft")
# metrics every neighbour backend understands; openTSNE accepts a few more per backend
METRICS = ("euclidean", "cosine", "manhattan", "chebyshev", "hamming", "braycurtis", "canberra")

#: parameters that act on a running optimisation (a new optimize segment starts)
LIVE = ("exaggeration", "early_exaggeration", "learning_rate")


@dataclass
class TSNEParams:
    perplexity: float = 30.0
    early_exaggeration_iter: int = 250
    early_exaggeration: float = 12.0
    n_iter: int = 500                      # main phase, after early exaggeration
    exaggeration: float = 1.0              # main phase; >1 gives tighter, UMAP-like clusters
    learning_rate: Union[str, float] = "auto"   # auto = N / exaggeration (Belkina et al. 2019)
    initial_momentum: float = 0.8
    final_momentum: float = 0.8
    dof: float = 1.0                       # degrees of freedom of the t kernel; <1 = heavier tails
    theta: float = 0.5                     # Barnes-Hut accuracy
    metric: str = "euclidean"
    initialization: str = "pca"
    neighbors: str = "auto"
    negative_gradient_method: str = "auto"
    # "auto": the optimisation's thread count is chosen from the machine's load while it
    # runs (vae_widgets._threads); the affinities use every core. -1: all cores, k: k threads
    n_jobs: Union[str, int] = "auto"
    random_state: int = 0
    standardize: bool = False
    pca_components: Union[str, int, None] = "auto"   # auto: reduce to 50 when wider than 50
    frame_interval: float = 0.1            # seconds between frames sent to views
    # KL costs ~half a gradient evaluation: "auto" asks for it as often as that stays
    # under 1 % of the run (every 5-50 iterations); an int k: every k iterations
    kl_every: Union[str, int] = "auto"

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def total_iterations(self) -> int:
        return self.early_exaggeration_iter + self.n_iter

    @property
    def auto_threads(self) -> bool:
        return self.n_jobs == "auto"

    @property
    def threads(self) -> int:
        """The thread count ``n_jobs`` names (with "auto": every available core, the most the
        optimisation may use, and what the affinities use)."""
        if self.n_jobs == "auto":
            from .._threads import available_cores
            return available_cores()
        cores = os.cpu_count() or 1
        return max(1, cores + 1 + self.n_jobs) if self.n_jobs < 0 else self.n_jobs


NAMES = tuple(f.name for f in fields(TSNEParams))


def check_param(name: str, value: Any) -> Any:
    """Validate one parameter; return the cleaned value or raise naming it."""
    if name not in NAMES:
        raise unknown_name(name, NAMES, "unknown t-SNE parameter")
    if name == "perplexity":
        return number(value, name, low=0, low_open=True)
    if name in ("early_exaggeration_iter", "n_iter"):
        return number(value, name, low=0, integer=True)
    if name in ("early_exaggeration", "exaggeration"):
        if value is None:
            return 1.0
        return number(value, name, low=0, low_open=True)
    if name == "learning_rate":
        if isinstance(value, str):
            if value != "auto":
                raise ValueError(f"learning_rate must be 'auto' or a positive number, got {value!r}.")
            return value
        return number(value, name, low=0, low_open=True)
    if name in ("initial_momentum", "final_momentum"):
        return number(value, name, low=0, high=1)
    if name == "dof":
        return number(value, name, low=0, low_open=True)
    if name == "theta":
        return number(value, name, low=0, high=1)
    if name == "metric":
        return choice(value, name, METRICS)
    if name == "initialization":
        return choice(value, name, INITIALIZATIONS)
    if name == "neighbors":
        return choice(value, name, NEIGHBORS)
    if name == "negative_gradient_method":
        return choice(value, name, GRADIENT_METHODS)
    if name == "n_jobs":
        if value == "auto":
            return value
        if isinstance(value, str):
            raise ValueError(f"n_jobs must be 'auto' (threads chosen from the machine's load "
                             f"as the run goes), a positive thread count or negative (-1 = "
                             f"all cores), got {value!r}.")
        v = number(value, name, integer=True)
        if v == 0:
            raise ValueError("n_jobs must be a positive thread count or negative (-1 = all cores), "
                             "or 'auto' (the default), not 0.")
        return v
    if name == "random_state":
        return number(value, name, low=0, integer=True)
    if name == "standardize":
        if not isinstance(value, bool):
            raise TypeError(f"standardize must be True or False, got {value!r}.")
        return value
    if name == "pca_components":
        if value is None or value == "auto":
            return value
        if value is False:
            return None
        return number(value, name, low=2, integer=True)
    if name == "frame_interval":
        return number(value, name, low=0)
    if name == "kl_every":
        if value == "auto":
            return value
        if isinstance(value, str):
            raise ValueError(f"kl_every must be 'auto' or a whole number of iterations >= 1, "
                             f"got {value!r}.")
        return number(value, name, low=1, integer=True)
    raise AssertionError(name)  # every field is handled above


def make_params(**kwargs) -> TSNEParams:
    return TSNEParams(**{k: check_param(k, v) for k, v in kwargs.items()})


def check_for_data(p: TSNEParams, n_samples: int, n_features: int) -> None:
    """Checks that need the data's size."""
    if 3 * p.perplexity >= n_samples:
        raise ValueError(
            f"perplexity={p.perplexity:g} is too large for {n_samples} points: t-SNE looks at "
            f"3 x perplexity neighbours, which must be fewer than the points. Use perplexity "
            f"< {max((n_samples - 1) / 3, 1):.4g} (5-50 is typical).")
    if isinstance(p.pca_components, int) and p.pca_components > min(n_samples, n_features):
        raise ValueError(
            f"pca_components={p.pca_components} exceeds min(n_samples, n_features)="
            f"{min(n_samples, n_features)}; lower it or pass pca_components=None.")


def check_rows_differ(X: np.ndarray, name: str = "X") -> None:
    """t-SNE places rows by how they differ: refuse data whose rows are all the same (the
    map would be undefined; openTSNE's start layout would be NaN)."""
    if not np.ptp(X, axis=0).any():
        raise ValueError(
            f"{name}: all {len(X)} rows are identical, so there is nothing to embed (t-SNE "
            f"places rows by their differences); check that the right columns were passed.")
