"""Data-subject requests: export everything held about a person, or erase it."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from conftest import make_user, post
from socialdesk.audit.models import Event
from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.followups import FollowUpSpec
from socialdesk.cases.models import Case, FollowUp, Note, Reply
from socialdesk.cases.notes import do_add_note
from socialdesk.contacts.actions import ContactError, do_add_contact_note
from socialdesk.contacts.merging import do_merge_contacts
from socialdesk.contacts.models import (
    Contact,
    ContactNote,
    Identity,
    Merge,
    MergeSuggestion,
    PostFingerprint,
)
from socialdesk.contacts.privacy import contact_export, do_erase_contact, erased_handle
from socialdesk.contacts.suggestions import do_suggest_merges
from socialdesk.contacts.tests.helpers import contact_of
from socialdesk.ingestion.models import Post
from socialdesk.notifications.models import Notification
from socialdesk.triage.feedback import do_correct_triage
from socialdesk.triage.models import Correction, Triage

PHOTO = "https://cdn.example/u/carol-danvers.png"
COMPLAINT = "My Zanzibar kettle stopped working after a week, really disappointed"
PRIVATE = "my address is 12 Quayside Road, call me on 0770 900 123"
CROSS = "Zanzibar kettle exploded on me today, never buying from this brand again"
REPLY = "Hi Carol, so sorry your kettle stopped working. We have sent you a DM, @kettlefan99."
SECRETS = ["Zanzibar", "Quayside", "0770 900 123", "kettlefan99", "carol.d.ig", "Carol",
           "Danvers", "carol.danvers@example.com", "CUST-7781", PHOTO, COMPLAINT, PRIVATE]
PERSONAL_TABLES = [Post, Case, Triage, Identity, Contact, Reply, Note, FollowUp, Notification,
                   Correction, ContactNote, MergeSuggestion, Merge, PostFingerprint]


@pytest.fixture
def carol(feed, agent, teammate, teams, django_capture_on_commit_callbacks):
    """Carol on x and instagram (merged), with a case holding a reply, a note, a
    follow-up and a correction; Dan, someone else, next to her."""
    teammate.teams.add(teams["legal"])
    agent.teams.add(teams["legal"])
    who = {"author": "kettlefan99", "author_name": "Carol Danvers",
           "author_email": "carol.danvers@example.com", "author_avatar": PHOTO}
    feed(post("1", COMPLAINT, **who),
         post("2", PRIVATE, visibility="private", at="2026-11-16T09:05:00+00:00", **who),
         post("3", CROSS, channel="instagram", author="carol.d.ig", author_name="Carol D.",
              at="2026-11-16T10:00:00+00:00"),
         post("4", "Dan here: the Quixote toaster is great", author="dan",
              author_name="Dan Quixote"))
    x, ig = contact_of("kettlefan99"), contact_of("carol.d.ig", "instagram")
    Contact.objects.filter(pk=x.pk).update(customer_id="CUST-7781")
    do_add_contact_note(ig, agent, "Carol Danvers prefers a call back")
    do_merge_contacts(x, ig, agent)
    case = Case.objects.get(posts__external_id="1")
    with django_capture_on_commit_callbacks(execute=True):
        do_submit_reply(case, agent, REPLY, "public",
                        ["culpability", "personal_data", "no_acknowledgement", "too_long",
                         "link_not_allowed"],
                        FollowUpSpec("Carol to DM us her order number", timedelta(hours=24)))
    do_add_note(case, agent, "Carol Danvers called from 0770 900 123, @bob please check")
    first = Post.objects.get(external_id="1")
    do_correct_triage(first, "sentiment",
                      "neutral" if first.triage.sentiment != "neutral" else "negative", agent,
                      "Carol is clearly unhappy")
    do_suggest_merges()
    x.refresh_from_db()
    return x


def texts(model) -> list[str]:
    fields = [f.attname for f in model._meta.concrete_fields
              if isinstance(f, models.CharField | models.TextField | models.JSONField)]
    return [v if isinstance(v, str) else json.dumps(v)
            for row in model.objects.values_list(*fields) for v in row]


def test_the_export_holds_everything_about_the_person(carol):
    data = contact_export(carol)
    assert data["format"] == "socialdesk-contact-export" and data["version"] == 1
    assert data["contact"]["customer_id"] == "CUST-7781"
    assert [c["name"] for c in data["contact"]["merged_contacts"]] == ["Carol D."]
    assert sorted(i["handle"] for i in data["identities"]) == ["carol.d.ig", "kettlefan99"]
    assert data["identities"][1]["email"] == "carol.danvers@example.com"
    by_text = {p["text"]: p for p in data["posts"]}
    assert set(by_text) == {COMPLAINT, PRIVATE, CROSS, REPLY}
    assert by_text[COMPLAINT]["triage"]["sentiment"] == (
        Triage.objects.get(post__external_id="1").sentiment)
    assert by_text[COMPLAINT]["corrections"][0]["note"] == "Carol is clearly unhappy"
    assert by_text[REPLY]["direction"] == "outbound" and by_text[REPLY]["sent_by"] == "alice"
    case = next(c for c in data["cases"] if c["replies"])
    assert case["replies"][0]["text"] == REPLY and case["replies"][0]["status"] == "sent"
    assert case["notes"][0]["text"].startswith("Carol Danvers called")
    assert case["follow_ups"][0]["action"] == "Carol to DM us her order number"
    assert [n["text"] for n in data["notes"]] == ["Carol Danvers prefers a call back"]
    assert data["merges"][0]["source_fields"]["name"] == "Carol D."
    verbs = {e["verb"] for e in data["events"]}
    assert {"case.opened", "reply.sent", "note.added", "triage.corrected", "contact.merged",
            "contact.note_added"} <= verbs
    assert "Dan Quixote" not in json.dumps(data, default=str)
    json.dumps(data, default=str)  # plain data, ready to write


def test_erasing_leaves_no_personal_text_and_keeps_one_event(carol, admin_user):
    dan_before = Post.objects.get(external_id="4").text
    history = Event.objects.count()
    assert Notification.objects.filter(verb="note.mention").exists()
    held = " ".join(t for model in PERSONAL_TABLES for t in texts(model)).casefold()
    assert all(s.casefold() in held for s in SECRETS)  # the check below can fail
    counts = do_erase_contact(carol, admin_user)

    assert counts["posts"] == 3 and counts["identities"] == 2
    for model in PERSONAL_TABLES:
        found = [(s, t) for t in texts(model) for s in SECRETS if s.casefold() in t.casefold()]
        assert not found, model.__name__
    posts = Post.objects.filter(author__contact=carol)
    assert set(posts.values_list("text", flat=True)) == {"[erased]"}
    assert set(posts.values_list("url", flat=True)) == {""}
    assert list(posts.values_list("raw", flat=True).distinct()) == [{}]
    assert set(Case.objects.filter(contact=carol).values_list("subject", flat=True)) == {
        "[erased]"}
    handles = sorted(Identity.objects.filter(contact=carol).values_list("handle", flat=True))
    assert handles == sorted([erased_handle("x", "kettlefan99"),
                              erased_handle("instagram", "carol.d.ig")])
    assert not ContactNote.objects.exists()
    assert PostFingerprint.objects.exists()  # other people's stay
    assert not PostFingerprint.objects.filter(identity__contact=carol).exists()
    # The brand's reply keeps its own words.
    assert Reply.objects.get().text == (
        "Hi [erased], so sorry your [erased]. We have sent you a DM, @[erased].")
    # Someone else's data is untouched, the history only grew by one event.
    assert Post.objects.get(external_id="4").text == dan_before
    assert Identity.objects.filter(handle="dan").exists()
    assert Event.objects.count() == history + 1
    event = Event.objects.get(verb="contact.erased")
    assert event.actor == admin_user and event.data["contact"] == carol.pk
    assert not [s for s in SECRETS if s.casefold() in json.dumps(event.data).casefold()]
    carol.refresh_from_db()
    assert carol.erased_at is not None and carol.cases.count() == 2


def test_an_erased_or_merged_away_contact_is_not_erased_again(carol, admin_user):
    merged_away = Contact.objects.get(merged_into=carol)
    with pytest.raises(ContactError, match="erase that one"):
        do_erase_contact(merged_away, admin_user)
    do_erase_contact(carol, admin_user)
    with pytest.raises(ContactError, match="already erased"):
        do_erase_contact(carol, admin_user)
    assert Event.objects.filter(verb="contact.erased").count() == 1


def test_the_command_exports_and_erases_only_when_confirmed(carol, tmp_path, admin_user):
    out = tmp_path / "carol.json"
    call_command("contacts", "export", str(carol.pk), "-o", str(out), "--by", "ada",
                 stdout=io.StringIO(), stderr=io.StringIO())
    assert json.loads(out.read_text())["contact"]["id"] == carol.pk
    assert Event.objects.get(verb="contact.exported").data == {"contact": carol.pk,
                                                               "via": "cli"}
    with pytest.raises(CommandError, match=f"add --confirm {carol.pk}"):
        call_command("contacts", "erase", str(carol.pk), stdout=io.StringIO())
    with pytest.raises(CommandError, match="not confirmed"):
        call_command("contacts", "erase", str(carol.pk), "--confirm", "999",
                     stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a contact number"):
        call_command("contacts", "export", "abc", stdout=io.StringIO())
    with pytest.raises(CommandError, match="there is no contact 999999"):
        call_command("contacts", "export", "999999", stdout=io.StringIO())
    assert not Contact.objects.filter(erased_at__isnull=False).exists()
    stdout = io.StringIO()
    call_command("contacts", "erase", str(carol.pk), "--confirm", str(carol.pk), "--by", "ada",
                 stdout=stdout)
    assert f"contact {carol.pk} erased: 3 posts, 2 identities, 2 cases" in stdout.getvalue()
    assert Event.objects.get(verb="contact.erased").actor == admin_user


def test_a_new_post_from_an_erased_handle_starts_a_new_contact(carol, feed, admin_user):
    do_erase_contact(carol, admin_user)
    feed(post("9", "hello again", author="kettlefan99", at="2026-11-20T09:00:00+00:00"))
    assert contact_of("kettlefan99") != carol
    make_user("someone")  # an unrelated user changes nothing
    assert Post.objects.filter(author__contact=carol).count() == 3
