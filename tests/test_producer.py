"""vae_widgets/_producer.py: every producer a widget can show has what the protocols say,
and the real engines keep the ``set_params`` contract (one bad value changes nothing; the
error names the parameter)."""
import numpy as np
import pytest

from vae_widgets import datasets
from vae_widgets._producer import Producer, TSNEProducer, VAEProducer
from vae_widgets.bridge.remote import RemoteRun
from vae_widgets.tsne.runner import TSNERunner
from vae_widgets.vae.model import VAEModel
from vae_widgets.vae.trainer import VAETrainer
from vae_widgets.vae.watch import LoopMonitor
from vae_widgets.bridge.remote_tsne import RemoteTSNE
from vae_widgets.bridge.remote_vae import MonitorRecord, RemoteSource, RemoteVAE

X, _ = datasets.digits()
X = X[:200]


@pytest.fixture
def run():
    r = RemoteRun()
    yield r
    r.close()


def producers(run):
    return {
        "VAETrainer": VAETrainer(X, image_shape=(8, 8), latent_dim=2, visuals_every=None),
        "LoopMonitor": LoopMonitor(VAEModel(64, 2, hidden=(16,)), X[:50], visuals_every=None),
        "RemoteVAE": RemoteVAE(run, MonitorRecord(), RemoteSource("a job")),
        "TSNERunner": TSNERunner(X, n_jobs=1),
        "RemoteTSNE": RemoteTSNE(run, np.empty((len(X), 0), np.float32)),
    }


def test_every_producer_has_what_its_widget_reads(run):
    got = producers(run)
    for name, p in got.items():
        assert isinstance(p, Producer), name
    assert [n for n, p in got.items() if isinstance(p, VAEProducer)] == [
        "VAETrainer", "LoopMonitor", "RemoteVAE"]
    assert [n for n, p in got.items() if isinstance(p, TSNEProducer)] == [
        "TSNERunner", "RemoteTSNE"]


def test_the_protocols_tell_a_producer_from_something_else():
    class Half:
        control = None

        def set_params(self, **params):
            return {}
    assert not isinstance(Half(), Producer)          # no ``running``


@pytest.mark.parametrize("name, good, bad, named", [
    ("VAETrainer", {"beta": 3.0}, {"lr": -1.0}, "lr"),
    ("LoopMonitor", {"sample_temperature": 0.5}, {"traverse_base": 10_000}, "traverse_base"),
    ("TSNERunner", {"exaggeration": 2.0}, {"learning_rate": -5}, "learning_rate"),
])
def test_one_bad_value_changes_nothing_and_the_error_names_it(run, name, good, bad, named):
    p = producers(run)[name]
    before = {k: getattr(p.params if name == "TSNERunner" else p.config, k) for k in good}
    with pytest.raises((ValueError, TypeError), match=named):
        p.set_params(**good, **bad)
    after = {k: getattr(p.params if name == "TSNERunner" else p.config, k) for k in good}
    assert after == before
    accepted = p.set_params(**good)
    if name == "TSNERunner":
        assert accepted["next_run"] == good and accepted["live"] == {}
    else:
        assert accepted == good


@pytest.mark.parametrize("name", ["VAETrainer", "LoopMonitor", "TSNERunner"])
def test_an_unknown_name_is_refused_with_what_it_may_have_meant(run, name):
    p = producers(run)[name]
    typo = {"VAETrainer": "betta", "LoopMonitor": "sample_temprature",
            "TSNERunner": "exagerration"}[name]
    with pytest.raises((ValueError, TypeError), match=typo):
        p.set_params(**{typo: 1.0})
