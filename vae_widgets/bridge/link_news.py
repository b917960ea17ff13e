"""The link to a job in another process, as news a widget shows.

A listener (``vae_widgets.bridge``) reports its link's status every time it changes:
connected (with a session per connection), lost (no word for a while), closed, and a
running count of refused messages. :class:`LinkNews` turns that stream into at most
one piece of news per change, in words a user can act on, and publishes it on its own
bus (never on the engine's bus, which a bridge job may forward); the widget that
shows the job subscribes to it (``widgets._base.StreamWidget._show_link``) and decides
what its traits become. The job stand-ins (``remote_vae.RemoteVAE``,
``remote_tsne.RemoteTSNE``) feed it and never touch a widget.

Kinds published (``Event.kind``, ``Event.data``):

* ``"connected"`` ``{}``: a new job (session) joined;
* ``"back"`` ``{}``: the same job answers again after it was lost;
* ``"lost"`` ``{"message"}``: no word from the job for a while;
* ``"closed"`` ``{"message"}``: the link closed (the job ended or we stopped listening);
* ``"refused"`` ``{"message"}``: messages not signed with this widget's token were refused;
* ``"described"`` ``{}``: the job's ``describe`` event arrived (read it from the stand-in).
"""
from __future__ import annotations

from .._stream import EventBus
from .listener import CLOSED, CONNECTED, LOST, STOPPED


class LinkNews:
    """Link status -> news, once per change (see the module docstring).

    ``job``: how the job is named in messages ("training job", "t-SNE job");
    ``keeps``: what the view keeps while the job is gone.
    """

    def __init__(self, job: str, keeps: str):
        self.job, self.keeps = job, keeps
        self.events = EventBus()
        self.session = None
        self.lost = False
        self.rejected = 0

    def update(self, s: dict, where: str) -> None:
        """One status report from the listener (``LinkStatus`` as a dict); ``where``: the
        job, in words (its host, process and rank)."""
        state, rejected = s.get("state"), int(s.get("rejected_total") or 0)
        if state == CONNECTED and s.get("session") != self.session:
            self.session, self.lost = s.get("session"), False
            self.events.publish("connected")
        elif state == CONNECTED and self.lost:
            self.lost = False
            self.events.publish("back")
        elif state == LOST and not self.lost:
            self.lost = True
            self.events.publish("lost", message=(
                f"Lost the {self.job} ({where}): no word from it for "
                f"{s.get('silent_for') or 0:.0f} s. It died, hangs, or the network is down. "
                f"{self.keeps}"))
        elif state in (CLOSED, STOPPED):
            self.events.publish("closed", message=(
                f"The {self.job} ended without a final status (it closed the link)."))
        if rejected > self.rejected:
            self.rejected = rejected
            self.events.publish("refused", message=(
                f"Refused {rejected} message(s) not from this widget's job "
                f"({s.get('last_rejection') or 'unsigned or forged'}). Only a job with the "
                f"token printed by listen() gets in."))

    def described(self) -> None:
        self.events.publish("described")
