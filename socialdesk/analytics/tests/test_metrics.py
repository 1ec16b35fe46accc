from datetime import date

import pytest
from django.urls import reverse

from conftest import post
from socialdesk.analytics.metrics import channel_report, percentile

COMPLAINT = "my kettle stopped working after a week, really disappointed"


@pytest.fixture
def history(feed):
    feed(
        post("a1", COMPLAINT, at="2026-11-16T09:00:00+00:00"),
        post("a2", "Sorry! Sent you a DM.", author="brand", direction="outbound",
             in_reply_to="a1", at="2026-11-16T09:20:00+00:00"),
        post("a3", "still not working, this is ridiculous", in_reply_to="a2",
             at="2026-11-16T09:30:00+00:00"),
        post("b1", "How do I descale the machine?", author="dave",
             at="2026-11-16T10:00:00+00:00"),
        post("s1", "earn $500 a day with crypto http://spam.example", author="bot",
             at="2026-11-16T11:00:00+00:00"),
        post("f1", COMPLAINT, channel="facebook", at="2026-11-17T09:00:00+00:00"),
        post("f2", "We're on it.", channel="facebook", author="brand", direction="outbound",
             in_reply_to="f1", at="2026-11-17T11:00:00+00:00"),
    )


def test_response_rate_counts_only_posts_that_needed_a_response(history):
    rows = {r.channel: r for r in channel_report()}
    x = rows["x"]
    # The spam post is hidden, so it is not in the needs-response set; the
    # follow-up a3 came after the only reply, so it is still unanswered.
    assert (x.volume, x.needs_response, x.responded) == (4, 3, 1)
    assert x.response_rate == pytest.approx(1 / 3)
    assert rows["facebook"].response_rate == 1.0


def test_first_response_time_is_first_agent_reply_minus_first_inbound(history):
    rows = {r.channel: r for r in channel_report()}
    assert rows["x"].frt.values == [20 * 60]
    assert rows["facebook"].frt.values == [2 * 3600]


def test_the_date_range_selects_by_arrival_day(history):
    rows = {r.channel: r for r in channel_report(date(2026, 11, 17), date(2026, 11, 17))}
    assert set(rows) == {"facebook"}


def test_percentiles_interpolate_between_ranks():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
    assert percentile([], 50) is None


def test_the_report_page_shows_the_figures(client, history, agent):
    client.force_login(agent)
    html = client.get(reverse("web:report")).content.decode()
    assert "33%" in html and "20 min" in html and "2.0 h" in html
    bad = client.get(reverse("web:report"), {"start": "2026-11-18", "end": "2026-11-01"})
    assert "The start date is after the end date." in bad.content.decode()
