"""bridge/link_news.py: the listener's link status becomes one piece of news per change."""
from vae_widgets.bridge.listener import CLOSED, CONNECTED, LOST
from vae_widgets.bridge.link_news import LinkNews


def news_of(reports):
    link = LinkNews("training job", "The views keep what arrived.")
    got = []
    link.events.subscribe(lambda e: got.append((e.kind, e.data.get("message", ""))))
    for r in reports:
        link.update(r, "model in process 7 on host (rank 0 of 1)")
    return got


def test_each_change_is_told_once_and_a_repeated_report_is_not():
    got = news_of([
        {"state": CONNECTED, "session": "a"},
        {"state": CONNECTED, "session": "a"},              # the same: nothing new
        {"state": LOST, "session": "a", "silent_for": 6.2},
        {"state": LOST, "session": "a", "silent_for": 9.0},  # still lost: told once
        {"state": CONNECTED, "session": "a"},              # back after a blip
        {"state": CONNECTED, "session": "b"},              # another job
        {"state": CLOSED, "session": "b"},
    ])
    assert [k for k, _ in got] == ["connected", "lost", "back", "connected", "closed"]
    lost = dict(got)["lost"]
    assert "Lost the training job (model in process 7" in lost and "for 6 s" in lost
    assert lost.endswith("The views keep what arrived.")


def test_refused_messages_are_told_when_their_count_grows():
    got = news_of([
        {"state": CONNECTED, "session": "a", "rejected_total": 0},
        {"state": CONNECTED, "session": "a", "rejected_total": 2,
         "last_rejection": "bad signature"},
        {"state": CONNECTED, "session": "a", "rejected_total": 2},
    ])
    assert [k for k, _ in got] == ["connected", "refused"]
    assert "Refused 2 message(s)" in got[1][1] and "bad signature" in got[1][1]
