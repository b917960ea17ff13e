"""The widgets' constructors for runs in other processes: ``VAEWidget.listen``,
``v.lightning_callback()`` and ``TSNEWidget.listen`` (what the classmethods call).

Two ways in for a VAE:

* ``VAEWidget.listen(port=0, host="127.0.0.1")``: a widget with no model of its own, fed
  by whichever job streams to it (``vae_widgets.lightning.StreamTo(address, token)`` in a
  Lightning run; ``vae_widgets.bridge.stream_to`` around any VAE engine). It prints the
  address and a fresh token.
* ``VAEWidget.watch(module, X_val).lightning_callback()``: in the notebook's own process
  the callback feeds the widget's monitor; when Lightning runs rank 0 in a child process
  (``ddp_spawn``, ``ddp_notebook``) it streams from there to a listener this widget
  started (loopback, its own token), and the widget follows that run while it lasts:
  Pause, Stop and live settings go to the child.

``TSNEWidget.listen(port=0, host="127.0.0.1", n_points=..., labels=..., df=...)``: a
widget with no runner of its own; a job streams to it (``python -m
vae_widgets.bridge.run_tsne ADDRESS --data ...``).

The producers these widgets show are the bridge's stand-ins
(:class:`~vae_widgets.bridge.remote_vae.RemoteVAE`,
:class:`~vae_widgets.bridge.remote_tsne.RemoteTSNE`); the widget shows their link news
(``StreamWidget._show_link``).
"""
from __future__ import annotations

import weakref

import numpy as np

from ..bridge.job import TOKEN_ENV
from ..bridge.remote import RemoteRun
from ..bridge.remote_tsne import RemoteTSNE
from ..bridge.remote_vae import MonitorRecord, RemoteSource, RemoteVAE
from ..bridge.transport import is_loopback

#: watch() options that belong to the notebook's process, not to a child's monitor
_LOCAL_ONLY = ("encode", "decode", "optimizer", "device", "events", "steps_per_epoch")


def _where(run: RemoteRun) -> str:
    return ("this machine only" if is_loopback(run._listener.host)
            else "reachable from other machines; signed, not encrypted")


def listen_vae(cls, port: int = 0, host: str = "127.0.0.1", *, quiet: bool = False,
               **options):
    """``VAEWidget.listen``: a widget fed by a job that streams to it (see the module
    docstring). ``options``: ``token``, ``limits``, ``heartbeat``, ``timeout`` of the
    :class:`~vae_widgets.bridge.listener.Listener`."""
    run = RemoteRun(port=port, host=host, **options)
    try:
        producer = RemoteVAE(run, MonitorRecord(), RemoteSource(f"a job at {run.address}"))
        widget = cls.__new__(cls)
        widget._setup(None, producer, epochs=1)
        widget._show_link(producer)
        widget._watch_listener_errors()
    except BaseException:
        run.close()
        raise
    if not quiet:
        print(vae_instructions(run))
    return widget


def lightning_callback(widget, **options):
    """``v.lightning_callback()``: see the module docstring and
    :class:`~vae_widgets.lightning.WidgetCallback`."""
    loop = widget._loop
    if widget._trainer is not None or loop is None:
        raise RuntimeError("lightning_callback() is for a widget that watches a LightningModule: "
                           "VAEWidget.watch(module, X_val). This one trains its own model "
                           "(VAEWidget(X)): call train().")
    if isinstance(loop, RemoteVAE):
        raise RuntimeError(f"this widget listens for a job ({loop.address}); in that job use "
                           f"callbacks=[vae_widgets.lightning.StreamTo(address, token)] with "
                           f"the address and token it printed.")
    from ..lightning import WidgetCallback

    remote = widget.remote
    if remote is None:
        # before the fit: a forked child (ddp_notebook) starts streaming with no hook
        # running here first, so the listener must already be up
        remote = RemoteVAE(RemoteRun(), widget._monitor, widget._source)
        widget._show_link(remote)
    args = {k: v for k, v in getattr(widget, "_watch_options", {}).items()
            if k not in _LOCAL_ONLY}
    args.update(options)
    a = loop.adapter
    X_val = a.data.reshape(len(a.data), *a.input_shape)
    return WidgetCallback(loop, remote.address, remote.token, X_val, a.labels,
                          release=_release_unused(weakref.ref(widget), remote), **args)


def _release_unused(widget_ref, remote: RemoteVAE):
    """What a fit that ran in the widget's own process calls when it ends (finished or
    failed): the listener started for a child rank was not needed, so it closes, unless a
    job is connected to it. The widget lets go of it first, so its closing is no news in
    the view. Returns whether it closed."""
    def release() -> bool:
        if remote.run.connected:
            return False
        widget = widget_ref()
        if widget is not None:
            widget._let_go(remote)
        remote.close()
        return True
    return release


def vae_instructions(run: RemoteRun) -> str:
    """What listen() prints: the address, the token and what the job adds."""
    where = _where(run)
    return (f"VAEWidget listening on {run.address} ({where})\n"
            f"  token: {run.token}\n"
            f"  in the Lightning job: {TOKEN_ENV}=<token> in its environment and\n"
            f"    callbacks=[vae_widgets.lightning.StreamTo({run.address!r}, X_val=...)]")


def listen_tsne(cls, port: int = 0, host: str = "127.0.0.1", *, n_points=None, X=None,
                labels=None, df=None, quiet: bool = False, widget_options=None, **options):
    """``TSNEWidget.listen``: see the module docstring. ``options``: ``token``,
    ``limits``, ``heartbeat``, ``timeout`` of the :class:`~vae_widgets.bridge.listener.Listener`;
    ``widget_options``: ``color``, ``tooltip``, ``search``, ``image_shape``,
    ``label_name``, ``features`` of the widget."""
    if X is None:
        n = n_points
        for given in (labels, df):
            if n is None and given is not None and not isinstance(given, str):
                n = len(given)
        if n is None or isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError("TSNEWidget.listen: say how many points the job embeds: "
                             "n_points=N, or the same rows as the job as X=, labels= or df= "
                             "(for colour and hover).")
        X = np.empty((int(n), 0), np.float32)
    run = RemoteRun(port=port, host=host, **options)
    try:
        widget = cls(X, labels, df=df, _make_runner=lambda X: RemoteTSNE(run, X),
                     **(widget_options or {}))
        if n_points is not None and n_points != widget.n_points:
            raise ValueError(f"TSNEWidget.listen: n_points={n_points} but the rows given "
                             f"have {widget.n_points}.")
        widget._show_link(widget._runner)
        widget._watch_listener_errors()
        widget.info = widget._runner.where()
    except BaseException:
        run.close()
        raise
    if not quiet:
        print(tsne_instructions(run))
    return widget


def tsne_instructions(run: RemoteRun) -> str:
    """What listen() prints: the address, the token and how to start the job."""
    where = _where(run)
    return (f"TSNEWidget listening on {run.address} ({where})\n"
            f"  token: {run.token}\n"
            f"  job side: {TOKEN_ENV}=<token> python -m vae_widgets.bridge.run_tsne "
            f"{run.address} --data points.npy\n"
            f"        or: {TOKEN_ENV}=<token> and "
            f"vae_widgets.bridge.stream_to(runner, {run.address!r}) around runner.run()")
