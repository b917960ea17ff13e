"""The bridge: stream an engine's events from another process or machine into the notebook.

Notebook side::

    from vae_widgets.bridge import listen
    run = listen()            # prints the address and a one-time token
    run.events.subscribe(print)   # what a widget does; run.control.stop() etc.

Job side (a script, a child process, a cluster job)::

    from vae_widgets.bridge import stream_to
    with stream_to(runner, "tcp://127.0.0.1:5555"):   # token from $VAE_WIDGETS_TOKEN
        runner.run()

or ``python -m vae_widgets.bridge.run_tsne ADDRESS --data digits`` for a t-SNE.

Modules, one job each: :mod:`.codec` (data <-> JSON + raw arrays), :mod:`.wire`
(signed messages, limits, replay guard), :mod:`.transport` (ZeroMQ sockets, and why
ZeroMQ), :mod:`.listener` (the notebook's receiving thread), :mod:`.remote` (the
engine-like proxy of a job: events, control, set_params), :mod:`.remote_vae` and
:mod:`.remote_tsne` (a job as a widget's producer), :mod:`.link_news` (the link's state as
news a widget shows), :mod:`.job` (the job's sending thread),
:mod:`.run_tsne` (a command line for a t-SNE job). Needs ``pyzmq`` (ships with
Jupyter; ``pip install vae_widgets[bridge]`` elsewhere).
"""
try:
    import zmq  # noqa: F401
except ImportError as exc:  # pragma: no cover - pyzmq comes with every Jupyter install
    raise ImportError("vae_widgets.bridge needs pyzmq: pip install 'vae_widgets[bridge]' "
                      "(or pip install pyzmq).") from exc

from .job import TOKEN_ENV, JobLink, stream_to
from .listener import LinkStatus, Listener
from .remote import RemoteControl, RemoteRun, listen
from .wire import Limits, Rejected

__all__ = ["listen", "stream_to", "RemoteRun", "RemoteControl", "JobLink", "Listener",
           "LinkStatus", "Limits", "Rejected", "TOKEN_ENV"]
