"""The inbox: queues with counts, filters and search in the query string, rows with
what an agent decides on, live notices, bulk actions and the JSON API."""

import itertools
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.accounts.models import User
from socialdesk.audit.models import Event
from socialdesk.cases import inbox as inbox_queries
from socialdesk.cases.models import Case, FollowUp, Reply
from socialdesk.contacts.models import Contact, Identity
from socialdesk.ingestion.models import Post
from socialdesk.triage.models import Correction, Topic, Triage

_ids = itertools.count(1)


def make_case(team, *, text="my kettle stopped working", channel="x", handle="", name="",
              followers=None, identity_followers=None, sentiment="negative",
              category="complaint", decision="respond", priority="P2", status="new",
              assignee=None, due_in=None, opened_ago=timedelta(hours=1), lang="en", topics=(),
              approval_by="", tags=()) -> Case:
    """A case with its opening post and the post's triage, every field chosen."""
    n = next(_ids)
    now = timezone.now()
    contact = Contact.objects.create(name=name)
    author = Identity.objects.create(channel=channel, handle=handle or f"person{n}", name=name,
                                     followers=identity_followers, contact=contact)
    opened = now - opened_ago
    case = Case.objects.create(
        status=status, priority=priority, decision=decision, category=category,
        channel=channel, lang=lang, topics=list(topics), tags=list(tags), contact=contact,
        team=team, assignee=assignee, subject=text[:200], opened_at=opened,
        last_inbound_at=opened, approval_by=approval_by,
        sla_due_at=now + due_in if due_in is not None else None)
    post = Post.objects.create(channel=channel, external_id=f"p{n}", direction="inbound",
                               visibility="public", author=author, text=text,
                               created_at=opened, followers=followers, case=case)
    Triage.objects.create(post=post, lang=lang, sentiment=sentiment, sentiment_score=0.0,
                          category=category, decision=decision, severity=2, priority=priority,
                          reply_mode="public", owner_team=team.slug, policy_version=1,
                          model_version="test")
    return case


def page(client, **params):
    response = client.get(reverse("web:inbox"), params)
    assert response.status_code == 200
    return response


def listed(client, **params) -> list[int]:
    return [c.pk for c in page(client, **params).context["page"]]


def awaiting(case, author, by):
    return Reply.objects.create(case=case, author=author, in_reply_to=case.posts.first(),
                                text="Sorry about that!", visibility="public",
                                status=Reply.Status.AWAITING_APPROVAL, approval_by=by)


@pytest.fixture
def care(teams):
    return teams["care"]


# --------------------------------------------------------------------------
# Queues
# --------------------------------------------------------------------------

def test_each_queue_holds_what_its_name_says(client, agent, teammate, outsider, care, teams):
    mine = make_case(care, assignee=agent, status="open")
    theirs = make_case(care, assignee=teammate, status="open")
    queued = make_case(care)
    elsewhere = make_case(teams["comms"])
    monitored = make_case(care, decision="monitor", priority="P4")
    breaching = make_case(care, assignee=teammate, due_in=timedelta(minutes=40))
    overdue = make_case(care, due_in=timedelta(minutes=-5))
    later = make_case(care, due_in=timedelta(hours=3))
    resolved = make_case(care, status="resolved", assignee=agent)
    hidden = make_case(care, decision="hide", status="closed", category="spam")
    followed = make_case(care, status="pending", assignee=agent)
    FollowUp.objects.create(case=followed, kind="expect_customer", action="DM us",
                            due_at=timezone.now() + timedelta(hours=4))
    client.force_login(agent)

    assert set(listed(client, view="mine")) == {mine.pk, followed.pk}
    assert set(listed(client, view="unassigned")) == {queued.pk, overdue.pk, later.pk}
    assert listed(client, view="breaching") == [overdue.pk, breaching.pk]
    assert listed(client, view="monitor") == [monitored.pk]
    assert listed(client, view="following") == [followed.pk]
    assert listed(client, view="resolved") == [resolved.pk]
    assert listed(client, view="hidden") == [hidden.pk]
    everything = set(listed(client, view="all"))
    assert everything == {c.pk for c in (mine, theirs, queued, monitored, breaching, overdue,
                                         later, resolved, hidden, followed)}
    assert elsewhere.pk not in everything
    # The default view: what needs a response, open.
    assert set(listed(client)) == {mine.pk, theirs.pk, queued.pk, breaching.pk, overdue.pk,
                                   later.pk, followed.pk}


def test_awaiting_approval_shows_what_the_user_may_approve(client, agent, teammate, supervisor,
                                                           care, teams):
    ours = make_case(care)
    awaiting(ours, teammate, "care")
    for_legal = make_case(care)
    awaiting(for_legal, teammate, "legal")
    for_supervisor = make_case(care)
    awaiting(for_supervisor, teammate, "supervisor")
    make_case(care)
    client.force_login(agent)
    assert listed(client, view="approval") == [ours.pk]
    client.force_login(supervisor)
    assert set(listed(client, view="approval")) == {ours.pk, for_legal.pk, for_supervisor.pk}
    # The supervisor of a team approves its "supervisor" replies, whatever their role.
    care.supervisor = agent
    care.save()
    client.force_login(agent)
    assert set(listed(client, view="approval")) == {ours.pk, for_supervisor.pk}


def test_tabs_carry_counts_capped_so_that_counting_stays_cheap(client, agent, care,
                                                               monkeypatch):
    for _ in range(3):
        make_case(care, assignee=agent, status="open")
    make_case(care)
    client.force_login(agent)
    tabs = {t["key"]: t["count"] for t in page(client).context["tabs"]}
    assert (tabs["mine"], tabs["unassigned"], tabs["all"], tabs["monitor"]) == ("3", "1", "4",
                                                                                 "0")
    monkeypatch.setattr(inbox_queries, "COUNT_CAP", 2)
    response = page(client, view="mine")
    tabs = {t["key"]: t["count"] for t in response.context["tabs"]}
    assert tabs["mine"] == "2+" and tabs["unassigned"] == "1"
    assert "of 2+" in response.content.decode()


def test_a_supervisor_watches_each_team_with_its_open_count(client, supervisor, care, teams):
    pr = teams["pr"]
    pr.supervisor = supervisor
    pr.save()
    for _ in range(2):
        make_case(care)
    make_case(care, status="resolved")
    pr_case = make_case(pr)
    make_case(teams["legal"])
    client.force_login(supervisor)
    response = page(client, view="all")
    counts = {team.slug: n for team, n in response.context["team_links"]}
    assert counts == {"care": "2", "pr": "1"}
    html = response.content.decode()
    assert re.search(r"Care <span class=\"count\">2", html)
    assert listed(client, view="all", team="pr") == [pr_case.pk]
    tabs = {t["key"]: t["count"] for t in page(client, view="all", team="pr").context["tabs"]}
    assert tabs["all"] == "1"


def test_an_outsider_sees_none_of_the_teams_cases(client, outsider, care):
    make_case(care)
    client.force_login(outsider)
    assert listed(client, view="all") == []
    assert listed(client, view="all", team="care") == []


# --------------------------------------------------------------------------
# Filters, search and sort
# --------------------------------------------------------------------------

def test_each_filter_narrows_the_list(client, agent, teammate, care):
    Topic.objects.create(slug="billing", name="Billing")
    base = make_case(care)
    cases = {
        "channel": (make_case(care, channel="facebook"), {"channel": "facebook"}),
        "category": (make_case(care, category="question"), {"category": "question"}),
        "sentiment": (make_case(care, sentiment="positive"), {"sentiment": "positive"}),
        "priority": (make_case(care, priority="P0"), {"priority": "P0"}),
        "status": (make_case(care, status="pending"), {"status": "pending"}),
        "assignee": (make_case(care, assignee=teammate), {"assignee": "bob"}),
        "topic": (make_case(care, topics=["billing", "refunds"]), {"topic": "billing"}),
        "lang": (make_case(care, lang="pt"), {"lang": "PT"}),
        "opened": (make_case(care, opened_ago=timedelta(days=20)),
                   {"opened_to": (timezone.now() - timedelta(days=19)).date().isoformat()}),
    }
    client.force_login(agent)
    for name, (case, params) in cases.items():
        assert listed(client, view="all", **params) == [case.pk], name
    nobody = listed(client, view="all", assignee="-")
    assert base.pk in nobody and cases["assignee"][0].pk not in nobody
    recent = listed(client, view="all",
                    opened_from=(timezone.now() - timedelta(days=2)).date().isoformat())
    assert base.pk in recent and cases["opened"][0].pk not in recent
    assert listed(client, view="all", channel="facebook", category="question") == []


def test_search_finds_text_authors_and_refs_within_what_the_user_sees(client, agent, care,
                                                                      teams):
    kettle = make_case(care, text="the kettle lid snapped off")
    toaster = make_case(care, text="toaster burns bread", handle="breadfan", name="Rosa Diaz")
    make_case(teams["comms"], text="another kettle story")
    client.force_login(agent)
    assert listed(client, view="all", q="kettle") == [kettle.pk]
    assert listed(client, view="all", q="@breadfan") == [toaster.pk]
    assert listed(client, view="all", q="rosa") == [toaster.pk]
    assert listed(client, view="all", q=toaster.ref) == [toaster.pk]
    assert listed(client, view="all", q='"lid snapped"') == [kettle.pk]


def test_invalid_filters_are_ignored_with_a_notice(client, agent, care):
    facebook = make_case(care, channel="facebook")
    make_case(care)
    client.force_login(agent)
    response = page(client, view="nope", channel="facebook", category="bogus",
                    opened_from="yesterday", q='!!! "', sort="sideways", page="x", team="zzz",
                    lang="not a language", topic="unknown")
    assert [c.pk for c in response.context["page"]] == [facebook.pk]
    notices = " ".join(response.context["notices"])
    for shown in ("view 'nope'", "category 'bogus'", "opened from 'yesterday'", "search",
                  "sort 'sideways'", "team 'zzz'", "language", "topic 'unknown'"):
        assert shown in notices, shown
    assert "only punctuation" in notices
    html = response.content.decode()
    assert "Ignored category" in html
    # Links keep the valid filters only.
    assert "channel=facebook" in response.context["query"]
    assert "bogus" not in response.context["query"]


PARAMS = ["view", "q", "channel", "category", "sentiment", "priority", "status", "team",
          "assignee", "topic", "lang", "opened_from", "opened_to", "sort", "page"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(PARAMS), st.text(max_size=40), max_size=6))
def test_no_query_string_breaks_the_inbox_its_poll_or_the_api(client, agent, api_token, care,
                                                               params):
    make_case(care)
    client.force_login(agent)
    assert client.get(reverse("web:inbox"), params).status_code == 200
    since = timezone.now().isoformat()
    assert changes(client, since=since, **params).status_code == 200
    assert client.get("/api/v1/inbox", params, **auth(api_token)).status_code in (200, 422)


def test_a_range_that_ends_before_it_starts_is_ignored(client, agent, care):
    case = make_case(care)
    client.force_login(agent)
    # The day it opened (an hour ago: yesterday, just after midnight).
    day = timezone.localdate(case.opened_at)
    response = page(client, view="all", opened_from=day.isoformat(),
                    opened_to=(day - timedelta(days=3)).isoformat())
    assert "before opened from" in " ".join(response.context["notices"])
    assert [c.pk for c in response.context["page"]] == [case.pk]


def test_hostile_search_text_is_escaped(client, agent, care):
    client.force_login(agent)
    html = page(client, q="<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_default_sort_is_sla_due_then_priority_then_age(client, agent, care):
    no_clock_p0 = make_case(care, priority="P0")
    later = make_case(care, due_in=timedelta(hours=5))
    soon = make_case(care, due_in=timedelta(minutes=20))
    overdue = make_case(care, due_in=timedelta(minutes=-30))
    p1_old = make_case(care, priority="P1", opened_ago=timedelta(hours=5))
    p1_new = make_case(care, priority="P1", opened_ago=timedelta(hours=2))
    client.force_login(agent)
    assert listed(client) == [overdue.pk, soon.pk, later.pk, no_clock_p0.pk, p1_old.pk,
                              p1_new.pk]
    assert listed(client, sort="priority")[:3] == [no_clock_p0.pk, p1_old.pk, p1_new.pk]
    assert listed(client, sort="newest") == [overdue.pk, soon.pk, later.pk, no_clock_p0.pk,
                                             p1_new.pk, p1_old.pk]


def test_filter_state_lives_in_the_query_string(client, agent, care):
    make_case(care, channel="facebook")
    client.force_login(agent)
    response = page(client, view="mine", channel="facebook", sort="newest")
    html = response.content.decode()
    assert 'href="?view=all&amp;channel=facebook&amp;sort=newest"' in html
    assert 'aria-current="page">Mine' in html


def test_pages_of_fifty(client, agent, care):
    for _ in range(52):
        make_case(care)
    client.force_login(agent)
    first = page(client)
    assert len(first.context["page"]) == 50 and first.context["page"].has_next
    second = page(client, page="2")
    assert len(second.context["page"]) == 2 and not second.context["page"].has_next
    assert not set(c.pk for c in first.context["page"]) & set(c.pk for c in
                                                              second.context["page"])


# --------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------

def test_a_row_shows_what_an_agent_decides_on(client, agent, care):
    make_case(care, text="my order BK-1 never arrived " + "and more " * 30, channel="instagram",
              handle="rosa", name="Rosa Diaz", followers=25_300, sentiment="negative",
              category="complaint", priority="P1", due_in=timedelta(minutes=12, seconds=20),
              assignee=agent, status="open")
    make_case(care, identity_followers=1_250, due_in=timedelta(minutes=-5, seconds=-10),
              sentiment="positive", category="praise")
    client.force_login(agent)
    html = page(client, view="all").content.decode()
    assert "Rosa Diaz" in html and "@rosa" in html and "25k followers" in html
    assert "1.2k followers" in html
    assert "my order BK-1 never arrived" in html and "…" in html
    assert "12 min left" in html and "overdue 5 min" in html
    assert 'data-due="' in html
    assert "sentiment-negative" in html and "sentiment-positive" in html
    assert ">IG<" in html and "Instagram" in html
    assert 'class="prio P1"' in html


def test_the_inbox_costs_the_same_queries_for_few_or_many_rows(client, supervisor, care, teams):
    pr = teams["pr"]
    pr.supervisor = supervisor
    pr.save()
    Topic.objects.create(slug="billing", name="Billing")
    for i in range(3):
        make_case(care if i % 2 else pr, due_in=timedelta(minutes=i))
    client.force_login(supervisor)
    for params in ({}, {"view": "all", "q": "kettle", "sentiment": "negative"}):
        with CaptureQueriesContext(connection) as few:
            page(client, **params)
        for i in range(30):
            make_case(care if i % 2 else pr, due_in=timedelta(minutes=i),
                      assignee=supervisor if i % 3 else None)
        with CaptureQueriesContext(connection) as many:
            response = page(client, **params)
        assert len(response.context["page"]) > 30
        assert len(many) == len(few), params


def test_the_inbox_has_no_inline_script_style_or_handlers(client, agent, care):
    make_case(care, due_in=timedelta(minutes=10))
    client.force_login(agent)
    html = page(client).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    # Every form control has a label.
    ids = set(re.findall(r'<(?:input(?![^>]*type="hidden")|select|textarea)[^>]*\bid="([^"]+)"',
                         html))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids <= labelled, ids - labelled


# --------------------------------------------------------------------------
# Live updates
# --------------------------------------------------------------------------

def changes(client, **params):
    return client.get(reverse("web:inbox_changes"), params)


def test_the_poll_tells_of_new_and_changed_cases(client, agent, care):
    shown = make_case(care)
    client.force_login(agent)
    response = page(client)
    since, ids = response.context["since"], response.context["page"].ids
    quiet = changes(client, since=since, shown=",".join(map(str, ids)))
    assert quiet.status_code == 200 and "new" not in quiet.content.decode()
    make_case(care)
    make_case(care)
    Case.objects.filter(pk=shown.pk).update(status="resolved", updated_at=timezone.now())
    html = changes(client, since=since, shown=",".join(map(str, ids))).content.decode()
    assert "2 new cases" in html and "1 updated" in html and "data-inbox-show" in html
    assert 'hx-target="#inbox-results"' in html


def test_the_poll_is_cheap_and_refuses_a_bad_token(client, agent, care):
    client.force_login(agent)
    since = page(client).context["since"]
    with CaptureQueriesContext(connection) as polled:
        changes(client, since=since, shown="1,2,x")
    assert len(polled) <= 8
    for bad in ("", "yesterday", "2026-11-16T09:00:00", "2026-13-45T09:00:00+00:00"):
        response = changes(client, since=bad)
        assert response.status_code == 400 and b"reload" in response.content


def test_showing_changes_swaps_the_results_and_their_counts(client, agent, care):
    make_case(care)
    client.force_login(agent)
    response = client.get(reverse("web:inbox"), HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="inbox-results")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="inbox-tabs"' in html and 'hx-swap-oob="true"' in html
    assert 'id="inbox-live"' in html and 'id="inbox-table"' in html


# --------------------------------------------------------------------------
# Bulk actions from the page
# --------------------------------------------------------------------------

def bulk(client, action, ids, **extra):
    return client.post(reverse("web:inbox_bulk"),
                       {"action": action, "ids": [str(i) for i in ids],
                        "back": "view=all&channel=x", **extra}, follow=True)


def test_bulk_assign_tag_and_resolve(client, agent, care):
    one, two = make_case(care), make_case(care)
    client.force_login(agent)
    response = bulk(client, "assign_me", [one.pk, two.pk])
    assert response.redirect_chain[-1][0] == reverse("web:inbox") + "?view=all&channel=x"
    assert "2 of 2 cases changed" in response.content.decode()
    assert set(Case.objects.values_list("assignee", flat=True)) == {agent.pk}
    bulk(client, "tag", [one.pk, two.pk], tag="Refund")
    assert [Case.objects.get(pk=c.pk).tags for c in (one, two)] == [["refund"], ["refund"]]
    bulk(client, "resolve", [one.pk])
    assert Case.objects.get(pk=one.pk).status == "resolved"
    assert Event.objects.filter(verb="case.status_changed", case=one).exists()


def test_bulk_action_with_another_teams_case_changes_nothing(client, agent, care, teams):
    ours = make_case(care)
    theirs = make_case(teams["comms"])
    client.force_login(agent)
    response = bulk(client, "resolve", [ours.pk, theirs.pk])
    assert "1 of the 2 selected cases is not yours to change" in response.content.decode()
    assert set(Case.objects.values_list("status", flat=True)) == {"new"}
    assert not Event.objects.exists()


def test_bulk_form_errors_are_explained(client, agent, care):
    case = make_case(care)
    client.force_login(agent)
    for action, extra, message in (("assign", {}, "Choose who gets the cases"),
                                   ("tag", {"tag": " "}, "Write the tag to add"),
                                   ("explode", {}, "Select a valid choice"),
                                   ("resolve", {"ids": ["x"]}, "whole numbers"),
                                   ("tag", {"tag": "no spaces!"}, "is not a tag")):
        data = {"action": action, "ids": [str(case.pk)], **extra}
        response = client.post(reverse("web:inbox_bulk"), data, follow=True)
        assert response.status_code == 200
        assert message in response.content.decode(), action
    assert bulk(client, "resolve", []).status_code == 200
    case.refresh_from_db()
    assert case.status == "new" and case.tags == []


def test_an_agent_cannot_hand_cases_to_someone_else_but_a_supervisor_can(
        client, agent, teammate, supervisor, care):
    one, two = make_case(care), make_case(care)
    client.force_login(agent)
    response = bulk(client, "assign", [one.pk, two.pk], assignee="bob")
    assert "Only a supervisor" in response.content.decode()
    assert not Case.objects.filter(assignee__isnull=False).exists()
    client.force_login(supervisor)
    bulk(client, "assign", [one.pk, two.pk], assignee="bob")
    assert set(Case.objects.values_list("assignee", flat=True)) == {teammate.pk}


def test_mark_spam_closes_tags_and_keeps_a_training_label(client, agent, care):
    case = make_case(care, category="question")
    client.force_login(agent)
    bulk(client, "spam", [case.pk])
    case.refresh_from_db()
    assert case.status == "closed" and "spam" in case.tags
    correction = Correction.objects.get()
    assert (correction.field, correction.previous, correction.value) == ("category", "question",
                                                                         "spam")


# --------------------------------------------------------------------------
# The JSON API
# --------------------------------------------------------------------------

def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_api_lists_a_view_with_filters(client, agent, api_token, care, teams):
    mine = make_case(care, assignee=agent, status="open", due_in=timedelta(minutes=5),
                     channel="facebook")
    make_case(care, assignee=agent, status="open")
    make_case(teams["comms"], status="open", channel="facebook")
    response = client.get("/api/v1/inbox", {"view": "mine", "channel": "facebook"},
                          **auth(api_token))
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["results"]] == [mine.pk, ]
    row = body["results"][0]
    assert row["sentiment"] == "negative" and row["ref"] == mine.ref and row["sla_due_at"]
    assert body["view"] == "mine" and body["count"] == 1 and not body["count_is_capped"]


def test_the_api_refuses_bad_filters_with_a_message(client, agent, api_token):
    for params, message in (({"view": "nope"}, "view"), ({"channel": "myspace"}, "channel"),
                            ({"q": '"'}, "punctuation"), ({"limit": 0}, "limit"),
                            ({"opened_from": "soon"}, "opened_from")):
        response = client.get("/api/v1/inbox", params, **auth(api_token))
        assert response.status_code in (400, 422), params
        assert message in response.content.decode(), params


def test_the_api_applies_bulk_actions_all_or_nothing(client, agent, api_token, care, teams):
    one, two = make_case(care), make_case(care)
    theirs = make_case(teams["comms"])
    url = "/api/v1/inbox/bulk"
    refused = client.post(url, {"action": "resolve", "case_ids": [one.pk, theirs.pk]},
                          content_type="application/json", **auth(api_token))
    assert refused.status_code == 403 and "not yours" in refused.json()["detail"]
    assert set(Case.objects.values_list("status", flat=True)) == {"new"}
    done = client.post(url, {"action": "tag", "case_ids": [one.pk, two.pk], "tag": "vip"},
                       content_type="application/json", **auth(api_token))
    assert done.status_code == 200 and done.json() == {"changed": 2, "cases": 2}
    bad = client.post(url, {"action": "assign", "case_ids": [one.pk]},
                      content_type="application/json", **auth(api_token))
    assert bad.status_code == 422 and "assignee" in bad.json()["detail"]
    assert User.objects.filter(username="alice").exists()
