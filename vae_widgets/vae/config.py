"""Every setting of the VAE engine and its default, in one place.

``MonitorConfig`` holds what is measured and shown about a VAE in training (metric
rows, validation, image grids, alerts, disentanglement), whoever trains it;
``VAEConfig`` extends it with the built-in trainer's model, objective and
optimisation. Both are plain dataclasses: ``VAETrainer`` and ``VAEWidget.watch``
take their fields as keyword arguments, ``set_params`` changes the live ones, and
checkpoints store them with ``to_dict()`` (plain types only, so
``torch.load(weights_only=True)`` can read them).

``validate()`` checks what can be checked without the data; the trainer checks
the rest (image shape against the columns, likelihood against the value range,
batch size against the training rows, labels for a conditional model).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

from .._validation import check_names, choice, number

LIKELIHOODS = ("auto", "bernoulli", "gaussian", "gaussian_learned")
SCHEDULES = ("constant", "linear", "cyclical")
ARCHITECTURES = ("auto", "mlp", "conv")
STANDARDIZE = ("auto", True, False)

#: what the monitor shows that may change while a model trains (any producer)
MONITOR_LIVE = ("sample_temperature", "visuals_every", "metrics_every", "traverse_base",
                "interpolation_pairs")
#: parameters ``VAETrainer.set_params`` may change while training runs
LIVE_PARAMS = ("beta", "lr", "kl_schedule", "warmup_epochs", "n_cycles", "ramp_ratio",
               "free_bits") + MONITOR_LIVE


@dataclass
class MonitorConfig:
    """What is measured and shown about a VAE in training, whoever trains it (the built-in
    trainer, a user's own loop through ``VAEWidget.watch``, a Lightning run)."""

    # --- what is reported, and how often ----------------------------------------------
    #: epochs between validation passes (the last epoch of each ``fit`` always validates).
    #: "auto": every epoch once an epoch holds at least 4096 training rows, else every
    #: min(5, ceil(4096 / training rows)) epochs: on small data an epoch takes milliseconds
    #: and validating after each one would cost a few per cent of the training speed
    val_every: Union[int, str] = "auto"
    #: steps between metric rows (each row averages the steps since the previous one); a row
    #: also closes each epoch, and one that would leave fewer than metrics_every/2 steps
    #: before the epoch end is merged into it (windows of metrics_every..1.5*metrics_every)
    metrics_every: int = 10
    #: seconds between image grids during training; None = no grids while training
    visuals_every: Optional[float] = 1.0
    #: seconds between "metrics" events (rows are buffered in between)
    publish_every: float = 0.2
    history_max_rows: int = 5000
    n_reconstructions: int = 8
    n_samples: int = 32
    sample_temperature: float = 1.0
    traversal_steps: int = 9
    traversal_range: float = 3.0
    max_traversal_dims: int = 10
    interpolation_steps: int = 10
    #: data row the traversal grid starts from; None = the first validation row
    traverse_base: Optional[int] = None
    #: data-row index pairs of the interpolation grid; None = chosen from the validation set
    interpolation_pairs: Optional[Tuple[Tuple[int, int], ...]] = None
    # --- diagnostics -----------------------------------------------------------------------
    #: a unit is active when Var_x[E q(z_j|x)] exceeds this (Burda et al. 2015)
    active_threshold: float = 0.01
    #: collapse alert when fewer than this fraction of the units are active ...
    collapse_fraction: float = 0.5
    #: ... at least this many epochs and steps after the KL warm-up ended ...
    collapse_grace_epochs: float = 2.0
    collapse_grace_steps: int = 300
    #: ... and the count has not risen over this many validation passes (see val_every)
    collapse_patience: int = 3
    #: overfitting alert after this many validation passes of rising validation and falling
    #: training loss
    overfit_patience: int = 3
    #: divergence when the loss exceeds its first value by this factor (NaN/inf always is)
    diverge_factor: float = 1e4
    # --- disentanglement (only with ``factors=``) -----------------------------------------
    #: rows (a fixed seeded subsample) on which MI and MIG are measured after each epoch
    factor_sample: int = 2000
    #: equal-width bins per latent dimension for the mutual information estimate
    factor_bins: int = 20

    # --- a user's own loop (VAEWidget.watch) ------------------------------------------------
    #: without epochs (``log(epoch=...)``, ``end_epoch()`` or ``steps_per_epoch``), a
    #: validation pass every this many steps stands for an epoch
    val_every_steps: int = 500
    #: seconds at least between two metric rows of a user's loop: a fast loop (~1 ms a
    #: step) would spend a few per cent on a row every metrics_every steps
    row_interval: float = 0.05
    #: val_every="auto" in a user's loop: validate at an epoch end when the validation
    #: passes so far cost under this fraction of the run (and always at its end)
    val_budget: float = 0.01

    def validate(self) -> "MonitorConfig":
        """Check and normalise the monitor's fields; return self."""
        if self.val_every != "auto":
            if isinstance(self.val_every, str):
                raise ValueError(f"val_every must be 'auto' or a whole number of epochs >= 1, "
                                 f"got {self.val_every!r}.")
            self.val_every = number(self.val_every, "val_every", low=1, integer=True)
        self.metrics_every = number(self.metrics_every, "metrics_every", low=1, integer=True)
        if self.visuals_every is not None:
            self.visuals_every = number(self.visuals_every, "visuals_every", low=0, low_open=True)
        self.publish_every = number(self.publish_every, "publish_every", low=0)
        self.history_max_rows = number(self.history_max_rows, "history_max_rows", low=10,
                                       integer=True)
        for name in ("n_reconstructions", "n_samples", "max_traversal_dims"):
            setattr(self, name, number(getattr(self, name), name, low=1, integer=True))
        for name in ("traversal_steps", "interpolation_steps"):
            setattr(self, name, number(getattr(self, name), name, low=2, integer=True))
        self.sample_temperature = number(self.sample_temperature, "sample_temperature", low=0)
        self.traversal_range = number(self.traversal_range, "traversal_range", low=0,
                                      low_open=True)
        if self.traverse_base is not None:
            self.traverse_base = number(self.traverse_base, "traverse_base", low=0, integer=True)
        if self.interpolation_pairs is not None:
            self.interpolation_pairs = _pairs(self.interpolation_pairs)
        self.active_threshold = number(self.active_threshold, "active_threshold", low=0)
        self.collapse_fraction = number(self.collapse_fraction, "collapse_fraction",
                                        low=0, high=1)
        self.collapse_grace_epochs = number(self.collapse_grace_epochs,
                                            "collapse_grace_epochs", low=0)
        self.collapse_grace_steps = number(self.collapse_grace_steps, "collapse_grace_steps",
                                           low=0, integer=True)
        self.collapse_patience = number(self.collapse_patience, "collapse_patience", low=1,
                                        integer=True)
        self.overfit_patience = number(self.overfit_patience, "overfit_patience", low=1,
                                       integer=True)
        self.diverge_factor = number(self.diverge_factor, "diverge_factor", low=1, low_open=True)
        self.factor_sample = number(self.factor_sample, "factor_sample", low=10, integer=True)
        self.factor_bins = number(self.factor_bins, "factor_bins", low=2, integer=True)
        self.val_every_steps = number(self.val_every_steps, "val_every_steps", low=1,
                                      integer=True)
        self.row_interval = number(self.row_interval, "row_interval", low=0)
        self.val_budget = number(self.val_budget, "val_budget", low=0, low_open=True, high=1)
        return self

    def to_dict(self) -> dict:
        """Plain types only (lists, not tuples) so a weights-only checkpoint can hold it."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def field_names(cls) -> list[str]:
        """Field names, the class's own first (a subclass's model settings before the
        inherited monitor settings, as signatures and error messages list them)."""
        names = [f.name for f in dataclasses.fields(cls)]
        own = [n for n in vars(cls).get("__annotations__", {}) if n in names]
        return own + [n for n in names if n not in own]

    @classmethod
    def from_kwargs(cls, where: str = "VAETrainer", **kwargs):
        """Build from keyword arguments; an unknown name is a TypeError with a suggestion."""
        check_names(kwargs, cls.field_names(), where)
        return cls(**kwargs).validate()


@dataclass
class VAEConfig(MonitorConfig):
    """Everything ``VAETrainer`` needs: the model, the objective, the optimisation, and
    (inherited) what is measured and shown."""

    # --- model -----------------------------------------------------------------------
    #: (H, W) or (C, H, W) for image data; None for flat (tabular) data
    image_shape: Optional[Tuple[int, ...]] = None
    #: "auto": convolutional when image_shape is given, else MLP
    architecture: str = "auto"
    latent_dim: int = 8
    #: hidden layer sizes; None: (400,) for the MLP, (256,) for the dense layer of the conv model
    hidden: Optional[Tuple[int, ...]] = None
    #: channels of the stride-2 conv layers (as many as the image size allows); kept small
    #: for laptop CPUs (28x28: ~7k samples/s vs ~3.6k with (32, 64); the MLP does ~23k)
    conv_channels: Tuple[int, ...] = (16, 32)
    #: condition encoder and decoder on one-hot ``labels``
    conditional: bool = False
    # --- likelihood and data -----------------------------------------------------------
    #: "auto": Bernoulli when the data lie in [0, 1], else Gaussian with fixed variance
    likelihood: str = "auto"
    #: standard deviation of the fixed-variance Gaussian (in standardised units)
    gaussian_std: float = 1.0
    #: "auto": standardise Gaussian data (per feature for tabular data, one scale for images)
    standardize: Union[str, bool] = "auto"
    # --- objective -----------------------------------------------------------------------
    beta: float = 1.0
    kl_schedule: str = "constant"
    warmup_epochs: float = 10.0
    n_cycles: int = 4
    ramp_ratio: float = 0.5
    #: epochs spanned by the n_cycles cycles; None: the length of the first fit() call
    schedule_epochs: Optional[float] = None
    #: per-dimension floor (nats) on the batch-mean KL in the objective; 0 = off
    free_bits: float = 0.0
    # --- optimisation --------------------------------------------------------------------
    lr: float = 1e-3
    batch_size: int = 128
    #: rows held out for the per-epoch validation ELBO and active units; 0: no validation
    #: (epoch rows get NaN validation terms, active units come from 512 training rows, no
    #: overfitting alert)
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    #: clip the gradient norm to this value each step; None = no clipping
    clip_grad: Optional[float] = None
    #: torch's intra-op threads on the training thread (CPU): "auto" chooses them from the
    #: machine's load and the measured step rate as training runs (vae_widgets._threads);
    #: a number fixes them
    threads: Union[str, int] = "auto"
    # ------------------------------------------------------------------------------------
    def validate(self) -> "VAEConfig":
        """Check and normalise every field that needs no data; return self."""
        super().validate()
        self.architecture = choice(self.architecture, "architecture", ARCHITECTURES)
        self.latent_dim = number(self.latent_dim, "latent_dim", low=1, integer=True)
        self.hidden = _sizes(self.hidden, "hidden")
        self.conv_channels = _sizes(self.conv_channels, "conv_channels", allow_none=False)
        self.conditional = _flag(self.conditional, "conditional")
        self.likelihood = choice(self.likelihood, "likelihood", LIKELIHOODS)
        self.gaussian_std = number(self.gaussian_std, "gaussian_std", low=0, low_open=True)
        if self.standardize not in STANDARDIZE or (
                not isinstance(self.standardize, (bool, str))):
            raise ValueError(f"standardize={self.standardize!r} is not one of "
                             f"['auto', True, False].")
        self.beta = number(self.beta, "beta", low=0)
        self.kl_schedule = choice(self.kl_schedule, "kl_schedule", SCHEDULES)
        self.warmup_epochs = number(self.warmup_epochs, "warmup_epochs", low=0)
        self.n_cycles = number(self.n_cycles, "n_cycles", low=1, integer=True)
        self.ramp_ratio = number(self.ramp_ratio, "ramp_ratio", low=0, high=1, low_open=True)
        if self.schedule_epochs is not None:
            self.schedule_epochs = number(self.schedule_epochs, "schedule_epochs",
                                          low=0, low_open=True)
        self.free_bits = number(self.free_bits, "free_bits", low=0)
        self.lr = number(self.lr, "lr", low=0, low_open=True)
        self.batch_size = number(self.batch_size, "batch_size", low=1, integer=True)
        self.val_fraction = number(self.val_fraction, "val_fraction", low=0, high=0.9)
        self.seed = number(self.seed, "seed", low=0, integer=True)
        if not isinstance(self.device, str) and type(self.device).__name__ == "device":
            self.device = str(self.device)
        if not isinstance(self.device, str) or not self.device:
            raise TypeError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', "
                            f"got {self.device!r}.")
        if self.clip_grad is not None:
            self.clip_grad = number(self.clip_grad, "clip_grad", low=0, low_open=True)
        if self.threads != "auto":
            bad = (f"threads must be 'auto' (chosen from the machine's load as training runs) "
                   f"or a whole number of threads >= 1, got {self.threads!r}.")
            if isinstance(self.threads, str):
                raise ValueError(bad)
            self.threads = number(self.threads, "threads", integer=True)
            if self.threads < 1:
                raise ValueError(bad)
        return self

    @classmethod
    def from_dict(cls, d: dict) -> "VAEConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"config has unknown fields {unknown}; was it written by a newer "
                             f"version of vae_widgets?")
        return cls(**d).validate()


def _plain(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return v.item()
    return v


def _flag(v: Any, name: str) -> bool:
    if not isinstance(v, bool) and type(v).__name__ != "bool_":
        raise TypeError(f"{name} must be True or False, got {v!r}.")
    return bool(v)


def _sizes(v: Any, name: str, allow_none: bool = True):
    if v is None and allow_none:
        return None
    if isinstance(v, (int,)) and not isinstance(v, bool):
        v = (v,)
    try:
        sizes = tuple(v)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of layer sizes like (256, 128), "
                        f"got {v!r}.") from None
    if not sizes:
        raise ValueError(f"{name} is empty; give at least one layer size, e.g. (256,)"
                         f"{' or None for the default' if allow_none else ''}.")
    return tuple(number(s, f"{name}[{i}]", low=1, integer=True) for i, s in enumerate(sizes))


def _pairs(v: Any):
    try:
        pairs = tuple(tuple(p) for p in v)
    except TypeError:
        raise TypeError(f"interpolation_pairs must be a list of (a, b) row-index pairs, "
                        f"got {v!r}.") from None
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError(f"interpolation_pairs must be a non-empty list of (a, b) row-index "
                         f"pairs, got {v!r}.")
    return tuple(tuple(number(i, "interpolation_pairs", low=0, integer=True) for i in p)
                 for p in pairs)
