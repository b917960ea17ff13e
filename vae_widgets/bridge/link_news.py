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

IDLE = "idle"


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


class JobStandIn:
    """What the stand-ins of a job (``remote_vae.RemoteVAE``, ``remote_tsne.RemoteTSNE``)
    share: their ``RemoteRun`` (``address``, ``token``, ``job_env``, ``control``,
    ``close``), ``running`` while the job's last status is one of ``ACTIVE`` and the link
    is up, ``state`` back to idle when a new job connects, and the link's news
    (``link``). A subclass sets ``ACTIVE`` and says ``where()`` the job is."""

    ACTIVE: tuple = ()

    def __init__(self, run, job: str, keeps: str):
        self.run = run
        self.control = run.control
        self.state = IDLE
        #: why the job's numbers are not shown ("" when they are)
        self.mismatch = ""
        self.link = LinkNews(job, keeps)

    @property
    def address(self) -> str:
        return self.run.address

    @property
    def token(self) -> str:
        return self.run.token

    def job_env(self) -> dict:
        """Environment variables that give a job launched from here the token
        (``subprocess.Popen(..., env=dict(os.environ, **w.remote.job_env()))``)."""
        return self.run.job_env()

    @property
    def running(self) -> bool:
        return self.state in self.ACTIVE and self.run.connected

    def close(self) -> None:
        """Stop listening (the job is told and goes on without the notebook)."""
        self.run.close()

    def where(self) -> str:
        raise NotImplementedError

    def _on_link(self, s: dict) -> None:
        if s.get("state") == CONNECTED and s.get("session") != self.link.session:
            self.state = IDLE                        # a new job: nothing runs yet
        self.link.update(s, self.where())
