"""The notebook's view of a job streaming through the bridge, shaped like a local engine.

:class:`RemoteRun` has what a widget uses of a ``TSNERunner`` or ``VAETrainer``:

- ``events``: an :class:`~vae_widgets._stream.EventBus` that re-publishes the job's
  events with the same kinds and data (arrays as numpy arrays, on the listener's
  thread, as a local engine publishes from its worker thread), plus one kind of its
  own, ``link``: the :class:`~.listener.LinkStatus` fields (``state``, ``rejected``,
  ``rejected_total``, ``last_rejection``, ``job``, ...) whenever the link changes;
- ``control``: ``pause()``, ``resume()``, ``stop()`` forwarded to the job (which
  applies them to its engine's ``control``); ``paused`` follows the job's ``status``
  events;
- ``set_params(**changes)``: forwarded; returns what the job's engine returned, and
  raises its ``ValueError``/``TypeError`` here.

:func:`listen` makes one and prints the address and token a job needs.
"""
from __future__ import annotations

import collections
import concurrent.futures
import itertools
import threading
import time

from .._stream import Control, EventBus
from . import transport, wire
from .job import TOKEN_ENV
from .listener import CLOSED, CONNECTED, LOST, STOPPED, LinkStatus, Listener

_FINISHED = (CLOSED, LOST, STOPPED)


def listen(port: int = 0, host: str = "127.0.0.1", *, quiet: bool = False,
           **options) -> "RemoteRun":
    """Listen for a job; returns its :class:`RemoteRun` and prints how to connect.

    Parameters
    ----------
    port : int
        0 (default) takes a free port.
    host : str
        ``"127.0.0.1"`` (default): jobs on this machine only (child processes, a
        ``torchrun`` here). To accept a job from another machine pass that
        interface's address or ``"*"``; messages are signed, not encrypted.
    quiet : bool
        Do not print the address and token.
    **options
        ``token``, ``limits``, ``heartbeat``, ``timeout``: see :class:`~.listener.Listener`.
    """
    run = RemoteRun(port=port, host=host, **options)
    if not quiet:
        print(run.instructions())
    return run


class RemoteControl(Control):
    """A :class:`~vae_widgets._stream.Control` whose requests go to the job.

    The local flags follow the requests at once and then the job's own ``status``
    events. Requests never raise: with no job connected they are dropped (the link
    status says why).
    """

    def __init__(self, forward):
        super().__init__()
        self._forward = forward

    def pause(self):
        self._forward("pause")
        super().pause()

    def resume(self):
        self._forward("resume")
        super().resume()

    def stop(self):
        self._forward("stop")
        super().stop()

    def _follow(self, state: str) -> None:
        """Mirror the job's reported state without sending anything."""
        if state == "paused":
            Control.pause(self)
        elif state == "running":
            Control.resume(self)


class RemoteRun:
    """A run in another process or on another machine, seen from the notebook.

    Made by :func:`listen` (see the module docstring for what it offers a widget).
    ``close()`` (or leaving a ``with`` block) stops listening; the job is told and
    goes on without the notebook.

    Attributes
    ----------
    received : collections.Counter
        Events received, by kind.
    reply_timeout : float
        Seconds :meth:`set_params` waits for the job's answer (default 5).
    """

    def __init__(self, **listener_options):
        self.events = EventBus()
        self.control = RemoteControl(self._forward_control)
        self.received: collections.Counter = collections.Counter()
        self.reply_timeout = 5.0
        self._ids = itertools.count(1)
        self._replies: dict[int, concurrent.futures.Future] = {}
        self._replies_lock = threading.Lock()
        self._session = None
        self._changed = threading.Condition()
        self._listener = Listener(on_message=self._on_message, on_link=self._on_link,
                                  **listener_options)

    # ------------------------------------------------------------ what a user reads
    @property
    def address(self) -> str:
        return self._listener.address

    @property
    def token(self) -> str:
        return self._listener.token

    @property
    def link(self) -> LinkStatus:
        """The link's status now (state, rejected counts, the job's counters)."""
        return self._listener.status

    @property
    def connected(self) -> bool:
        return self.link.state == CONNECTED

    def job_env(self) -> dict:
        """Environment variables that give a job launched from here the token."""
        return {TOKEN_ENV: self.token}

    def instructions(self) -> str:
        where = ("this machine only" if transport.is_loopback(self._listener.host)
                 else "reachable from other machines; signed, not encrypted")
        return (f"vae_widgets bridge listening on {self.address} ({where})\n"
                f"  token: {self.token}\n"
                f"  job side: {TOKEN_ENV}=<token> and "
                f"vae_widgets.bridge.stream_to(engine, {self.address!r})\n"
                f"        or: {TOKEN_ENV}=<token> python -m vae_widgets.bridge.run_tsne "
                f"{self.address} --data digits")

    # ------------------------------------------------------------ steering
    def set_params(self, **changes) -> dict:
        """Ask the job's engine to change parameters; returns its answer.

        Raises the job's ``ValueError``/``TypeError`` for a bad value, ``RuntimeError``
        when no job is connected, ``TimeoutError`` when it does not answer within
        ``reply_timeout`` seconds. Called from an event handler (the listener's
        thread) it does not wait and returns ``{}``.
        """
        if not self.connected:
            raise RuntimeError(f"set_params: no job is connected (link {self.link.state}); "
                               f"start the job with the address and token printed by listen().")
        future = self._command("set", changes)
        if threading.current_thread().name == "vae-widgets-bridge-listener":
            return {}
        try:
            reply = future.result(self.reply_timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"set_params: the job did not answer within "
                               f"{self.reply_timeout} s (link {self.link.state}).") from None
        if reply.get("ok"):
            return reply.get("result") or {}
        error = {"ValueError": ValueError, "TypeError": TypeError}.get(reply.get("error_type"),
                                                                        RuntimeError)
        raise error(f"the job refused set_params: {reply.get('error')}")

    def _forward_control(self, action: str) -> None:
        self._command(action, {})

    def _command(self, action: str, params: dict) -> concurrent.futures.Future:
        cid = next(self._ids)
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._replies_lock:
            self._replies[cid] = future
        self._listener.send(wire.COMMAND, {"id": cid, "action": action, "params": params})
        return future

    # ------------------------------------------------------------ waiting
    def wait_connected(self, timeout: float = 30.0) -> bool:
        """Block until a job is connected (True) or ``timeout`` passes (False)."""
        return self._wait(lambda s: s.state == CONNECTED, timeout)

    def wait_finished(self, timeout: float | None = None) -> LinkStatus:
        """Block until the job said goodbye, was lost, or this listener was closed.

        Raises TimeoutError after ``timeout`` seconds; returns the final status.
        """
        if not self._wait(lambda s: s.session is not None and s.state in _FINISHED, timeout):
            raise TimeoutError(f"the job is still streaming after {timeout} s.")
        return self.link

    def _wait(self, done, timeout) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not done(self.link):
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(0.2 if left is None else min(left, 0.2))
        return True

    def close(self) -> None:
        """Stop listening (the job is told, and keeps running without us)."""
        self._listener.close()

    def __enter__(self) -> "RemoteRun":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self):
        s = self.link
        return (f"RemoteRun({self.address}, state={s.state!r}, received={s.received}, "
                f"rejected={s.rejected_total})")

    # ------------------------------------------------------------ listener thread
    def _on_message(self, msg: wire.Message) -> None:
        if msg.type == wire.REPLY:
            with self._replies_lock:
                future = self._replies.pop(msg.body.get("id"), None)
            if future is not None and not future.done():
                future.set_result(msg.body)
            return
        kind, data = msg.body["kind"], msg.body["data"]
        self.received[kind] += 1
        if kind == "status":
            self.control._follow(data.get("state"))
        self.events.publish(kind, **data)

    def _on_link(self, status: LinkStatus) -> None:
        if status.session is not None and status.session != self._session:
            self._session = status.session      # a new run: an old stop does not apply
            self.control.clear_stop()
        if status.state in _FINISHED:
            with self._replies_lock:
                pending, self._replies = self._replies, {}
            for f in pending.values():
                if not f.done():
                    f.set_exception(RuntimeError(f"the job is gone (link {status.state})."))
        with self._changed:
            self._changed.notify_all()
        self.events.publish("link", **status.as_dict())
