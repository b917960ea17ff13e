"""What a widget needs of the thing that produces its numbers: the producer contract.

A widget never cares whether its numbers come from an engine in this process
(``TSNERunner``, ``VAETrainer``), a user's own loop (``vae.watch.LoopMonitor``) or a
job in another process (the stand-ins ``bridge.remote_vae.RemoteVAE`` and
``bridge.remote_tsne.RemoteTSNE``): each is a producer, and these protocols say what
every one of them has. ``tests/test_producer.py`` checks each class against them and
checks the ``set_params`` contract on the real engines.

``set_params(**params) -> dict``, for every producer:

* every value is checked before any is applied: one bad value changes nothing, and
  the ``ValueError``/``TypeError`` names the parameter and what to pass; an unknown
  name is refused with the names it may have meant;
* it may be called from any thread; a running producer applies the change before its
  next step (iteration, batch), an idle or paused one at once;
* it returns what it accepted, as the producer's own types: a VAE producer the
  validated values (``{"beta": 4.0}``), a t-SNE producer ``{"live": {...},
  "next_run": {...}}`` (what acts now, what waits for the next ``run()``);
* a stand-in forwards the call to its job and raises the job's error as its own.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from ._stream import Control, EventBus


@runtime_checkable
class Producer(Protocol):
    """Every producer: it can be paused, resumed and stopped (``control``), says whether
    it runs, and takes live parameters (the contract in the module docstring)."""

    control: Control

    @property
    def running(self) -> bool: ...

    def set_params(self, **params) -> dict: ...


@runtime_checkable
class VAEProducer(Producer, Protocol):
    """A VAE producer: its ``monitor`` (a ``vae.monitor.VAEMonitor``, or what a stand-in
    keeps of one) publishes every number on ``monitor.events``; ``step`` is the last
    training step it reported."""

    monitor: object
    step: int


@runtime_checkable
class TSNEProducer(Producer, Protocol):
    """A t-SNE producer: publishes on ``events``; ``params`` is its ``TSNEParams``."""

    events: EventBus
    params: object
