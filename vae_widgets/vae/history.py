"""What a VAE run leaves behind, as tables: the column names of each history and
``HistoryTables``, the DataFrames built from row lists.

The monitor keeps the row lists (``rows``, ``epoch_rows``, ``param_rows``,
``mig_rows``); a record of a remote run (``bridge.remote_vae.MonitorRecord``)
keeps copies of them. Both read them as DataFrames through this one class, so a
column is named in one place.
"""
from __future__ import annotations

import pandas as pd

METRIC_COLUMNS = ("step", "epoch", "time", "elbo", "loss", "recon", "kl", "kl_per_dim",
                  "active_units", "grad_norm", "lr", "beta")
EPOCH_COLUMNS = ("epoch", "step", "time", "train_elbo", "train_recon", "train_kl",
                 "val_elbo", "val_recon", "val_kl", "val_kl_per_dim", "active_units",
                 "beta", "lr")
PARAM_COLUMNS = ("step", "epoch", "time", "param", "old", "new")
MIG_COLUMNS = ("epoch", "step", "mig", "gaps", "mi", "mi_normalized", "entropy", "factors",
               "seconds")


class HistoryTables:
    """The run's histories as DataFrames, from the row lists ``rows``, ``epoch_rows``,
    ``param_rows`` and ``mig_rows`` (the monitor's own, or a record of a remote one's)."""

    @property
    def history(self) -> pd.DataFrame:
        """Metric rows (decimated to at most ``history_max_rows``), see ``METRIC_COLUMNS``."""
        return pd.DataFrame(list(self.rows), columns=list(METRIC_COLUMNS))

    @property
    def epoch_history(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.epoch_rows), columns=list(EPOCH_COLUMNS))

    @property
    def param_history(self) -> pd.DataFrame:
        """One row per parameter change: step, epoch, time, param, old, new."""
        return pd.DataFrame(list(self.param_rows), columns=list(PARAM_COLUMNS))

    @property
    def mig_history(self) -> pd.DataFrame:
        """One row per epoch measured against factors (see ``MIG_COLUMNS``)."""
        return pd.DataFrame(list(self.mig_rows), columns=list(MIG_COLUMNS))


class MonitorHistories:
    """A producer's histories and alerts are its monitor's (``self.monitor``: a
    ``VAEMonitor``, or for a remote run the ``MonitorRecord`` filled from its events).
    ``VAETrainer``, ``LoopMonitor`` and ``RemoteVAE`` read them through this one class."""

    @property
    def history(self) -> pd.DataFrame:
        """Metric rows (decimated to at most ``history_max_rows``), see ``METRIC_COLUMNS``."""
        return self.monitor.history

    @property
    def epoch_history(self) -> pd.DataFrame:
        """One row per epoch, see ``EPOCH_COLUMNS``."""
        return self.monitor.epoch_history

    @property
    def param_history(self) -> pd.DataFrame:
        """One row per live parameter change: step, epoch, time, param, old, new."""
        return self.monitor.param_history

    @property
    def mig_history(self) -> pd.DataFrame:
        """One row per epoch measured against ``factors``: epoch, step, mig, gaps (per
        factor), mi and mi_normalized (latent dim x factor), entropy, factors, seconds."""
        return self.monitor.mig_history

    @property
    def alerts(self) -> list:
        """The alerts so far, as dicts with ``kind``, ``message``, ``fix``, ``step``, ``epoch``."""
        return self.monitor.alerts
