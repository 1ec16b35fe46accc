"""The contact pages: who may see them, search, the profile, and what agents do there."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case
from socialdesk.contacts.models import Contact, ContactNote, Identity, Merge, MergeSuggestion
from socialdesk.contacts.suggestions import do_suggest_merges
from socialdesk.contacts.tests.helpers import contact_of

COMPLAINT = "my kettle stopped working after a week, really disappointed"


@pytest.fixture
def carol(feed, teams):
    feed(post("1", COMPLAINT, author="carol", author_name="Carol Jones",
              author_email="carol@example.com", url="https://x.com/carol/status/1"))
    assert Case.objects.get().team.slug == "care"
    contact = contact_of("carol")
    Contact.objects.filter(pk=contact.pk).update(customer_id="CUST-1")
    return contact


def urls(contact):
    return [("get", reverse("contacts:profile", args=[contact.pk])),
            ("post", reverse("contacts:note", args=[contact.pk])),
            ("post", reverse("contacts:tag", args=[contact.pk])),
            ("post", reverse("contacts:untag", args=[contact.pk])),
            ("post", reverse("contacts:merge", args=[contact.pk])),
            ("get", reverse("contacts:export", args=[contact.pk])),
            ("get", reverse("contacts:erase", args=[contact.pk])),
            ("post", reverse("contacts:erase", args=[contact.pk]))]


def test_an_agent_of_another_team_gets_404_for_everything_about_the_contact(
        client, carol, outsider):
    client.force_login(outsider)
    for method, url in urls(carol):
        response = getattr(client, method)(url, {"text": "x", "tag": "x", "other": carol.pk,
                                                 "confirm": carol.pk})
        assert response.status_code == 404, url
    assert carol.pk not in [c.pk for c in client.get(reverse("contacts:list")).context["page"]]
    assert client.get(reverse("contacts:list"), {"q": "carol"}).context["page"].paginator.count == 0
    assert not ContactNote.objects.exists() and not Merge.objects.exists()
    carol.refresh_from_db()
    assert carol.tags == [] and carol.erased_at is None


def test_anonymous_visitors_are_sent_to_the_login(client, carol):
    for method, url in [("get", reverse("contacts:list"))] + urls(carol):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response.url.startswith(reverse("web:login"))


def test_the_teams_agents_and_supervisors_see_the_contact_and_admins_see_every_one(
        client, carol, agent, supervisor, admin_user):
    for user in (agent, supervisor):
        client.force_login(user)
        assert client.get(reverse("contacts:profile", args=[carol.pk])).status_code == 200
    feed_less = Contact.objects.create(name="No cases yet")
    for user in (agent, supervisor):
        client.force_login(user)
        assert client.get(reverse("contacts:profile", args=[feed_less.pk])).status_code == 404
    client.force_login(admin_user)
    assert client.get(reverse("contacts:profile", args=[feed_less.pk])).status_code == 200


@pytest.mark.parametrize("query", ["carol", "@carol", "Jones", "carol@example.com", "cust-1"])
def test_the_list_finds_a_contact_by_name_handle_email_or_customer_id(client, carol, feed,
                                                                      agent, query):
    feed(post("2", COMPLAINT, author="dan", author_name="Dan"))
    client.force_login(agent)
    found = client.get(reverse("contacts:list"), {"q": query}).context["page"]
    assert [c.pk for c in found] == [carol.pk]


def test_the_list_filters_by_tag_and_shows_tags(client, carol, feed, agent):
    feed(post("2", COMPLAINT, author="dan"))
    Contact.objects.filter(pk=carol.pk).update(tags=["vip", "press"])
    Contact.objects.filter(pk=contact_of("dan").pk).update(tags=["vipish"])
    client.force_login(agent)
    response = client.get(reverse("contacts:list"), {"tag": "VIP"})
    assert [c.pk for c in response.context["page"]] == [carol.pk]
    assert ">VIP</span>" in response.content.decode()
    assert [c.pk for c in client.get(reverse("contacts:list"), {"tag": "press"})
            .context["page"]] == [carol.pk]


def test_the_list_costs_the_same_queries_for_many_contacts(client, feed, agent,
                                                            django_assert_max_num_queries):
    feed(*(post(str(i), COMPLAINT, author=f"user{i}") for i in range(3)))
    client.force_login(agent)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("contacts:list"))
    feed(*(post(str(i), COMPLAINT, author=f"user{i}") for i in range(3, 30)))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(reverse("contacts:list")).context["page"]) == 30


def test_the_profile_shows_identities_cases_posts_and_sentiment(client, carol, agent):
    client.force_login(agent)
    html = client.get(reverse("contacts:profile", args=[carol.pk])).content.decode()
    case = Case.objects.get()
    assert 'href="https://x.com/carol" rel="noopener noreferrer"' in html
    assert reverse("web:case", args=[case.pk]) in html and case.ref in html
    assert COMPLAINT in html and "CUST-1" in html and "carol@example.com" in html
    assert '<table class="sentiment">' in html and "<svg" in html and "<rect" in html
    assert 'role="img"' in html and "<title id=\"chart-title\">" in html
    assert "style=" not in html and not re.search(r"\son[a-z]+=", html)
    assert "<script" not in html.split("</head>")[1]


def test_hostile_names_and_text_are_inert_on_the_list_and_the_profile(client, feed, agent):
    feed(post("1", "<script>alert(1)</script> " + COMPLAINT, author="evil",
              author_name="<img src=x onerror=alert(2)>",
              author_avatar="https://x.example/a.png\"><script>alert(3)</script>"))
    client.force_login(agent)
    evil = contact_of("evil")
    for url in (reverse("contacts:list"), reverse("contacts:profile", args=[evil.pk])):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_a_private_message_on_another_teams_case_stays_hidden(client, carol, feed, agent,
                                                              teams):
    feed(post("2", "my lawyer will be in touch about the refund, this is fraud",
              channel="facebook", author="carol.fb", visibility="private"))
    Identity.objects.filter(handle="carol.fb").update(contact=carol)
    Case.objects.filter(posts__external_id="2").update(contact=carol, team=teams["legal"])
    client.force_login(agent)
    html = client.get(reverse("contacts:profile", args=[carol.pk])).content.decode()
    assert "my lawyer will be in touch" not in html
    assert "A private message on a case of another team." in html
    assert "a case of team Legal" in html


def test_agents_add_notes_and_tags(client, carol, agent):
    client.force_login(agent)
    url = reverse("contacts:profile", args=[carol.pk])
    assert client.post(reverse("contacts:note", args=[carol.pk]),
                       {"text": "  prefers e-mail  "}).status_code == 302
    assert client.post(reverse("contacts:note", args=[carol.pk]), {"text": " "}).status_code == 302
    assert list(carol.notes.values_list("text", "author")) == [("prefers e-mail", agent.pk)]
    client.post(reverse("contacts:tag", args=[carol.pk]), {"tag": "Press"})
    response = client.post(reverse("contacts:tag", args=[carol.pk]), {"tag": "advocate"},
                           follow=True)
    assert "computed from the person" in response.content.decode()
    carol.refresh_from_db()
    assert carol.tags == ["press"]
    html = client.get(url).content.decode()
    assert "prefers e-mail" in html and 'aria-label="Remove tag press"' in html
    client.post(reverse("contacts:untag", args=[carol.pk]), {"tag": "press"})
    carol.refresh_from_db()
    assert carol.tags == []


def test_an_agent_merges_and_unmerges_from_the_profile(client, carol, feed, agent, outsider):
    feed(post("2", COMPLAINT, channel="instagram", author="carol.ig"))
    ig = contact_of("carol.ig", "instagram")
    hidden = Contact.objects.create(name="Someone outside care")
    client.force_login(agent)
    response = client.post(reverse("contacts:merge", args=[carol.pk]), {"other": hidden.pk},
                           follow=True)
    assert f"There is no contact {hidden.pk} you may see." in response.content.decode()
    response = client.post(reverse("contacts:merge", args=[carol.pk]), {"other": "two"},
                           follow=True)
    assert "Enter a whole number." in response.content.decode()
    assert not Merge.objects.exists()

    client.post(reverse("contacts:merge", args=[carol.pk]), {"other": ig.pk})
    merge = Merge.objects.get()
    assert carol.cases.count() == 2
    # The merged contact's page leads to the one it was merged into.
    response = client.get(reverse("contacts:profile", args=[ig.pk]))
    assert response.status_code == 302
    assert response.url == reverse("contacts:profile", args=[carol.pk])
    client.force_login(outsider)
    assert client.post(reverse("contacts:unmerge", args=[merge.pk])).status_code == 404
    client.force_login(agent)
    client.post(reverse("contacts:unmerge", args=[merge.pk]))
    assert ig.cases.count() == 1 and carol.cases.count() == 1
    response = client.post(reverse("contacts:unmerge", args=[merge.pk]), follow=True)
    assert "already undone" in response.content.decode()


def test_suggestions_are_accepted_or_rejected_on_their_page(client, carol, feed, agent,
                                                            outsider):
    feed(post("2", COMPLAINT, channel="instagram", author="carol.ig",
              author_email="carol@example.com"),
         post("3", COMPLAINT, channel="reddit", author="carol.rd",
              author_email="carol@example.com", at="2026-11-17T09:00:00+00:00"))
    do_suggest_merges()
    client.force_login(agent)
    page = client.get(reverse("contacts:suggestions"))
    suggestions = list(page.context["page"])
    assert len(suggestions) == 3 and "Same e-mail address" in page.content.decode()
    first, second = suggestions[0], suggestions[1]
    client.force_login(outsider)
    assert client.post(reverse("contacts:decide", args=[first.pk]),
                       {"decision": "accept"}).status_code == 404
    client.force_login(agent)
    bad = client.post(reverse("contacts:decide", args=[second.pk]), {"decision": "maybe"},
                      follow=True)
    assert "Select a valid choice" in bad.content.decode()
    client.post(reverse("contacts:decide", args=[first.pk]), {"decision": "reject"})
    response = client.post(reverse("contacts:decide", args=[second.pk]),
                           {"decision": "accept", "next": "profile"})
    assert response.status_code == 302 and "/contacts/" in response.url
    statuses = dict(MergeSuggestion.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk]) == ("rejected", "accepted")
    assert Merge.objects.count() == 1
    again = client.post(reverse("contacts:decide", args=[second.pk]), {"decision": "reject"},
                        follow=True)
    assert "already accepted" in again.content.decode()


def test_only_admins_import_customers_and_bad_rows_come_back_with_numbers(
        client, carol, agent, admin_user):
    client.force_login(agent)
    assert client.get(reverse("contacts:import")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("contacts:import")).status_code == 200
    bad = SimpleUploadedFile("c.csv", b"id,name,email\nC-9,Zed,zed@\n,Nameless,\n")
    response = client.post(reverse("contacts:import"), {"file": bad})
    assert response.status_code == 422
    html = response.content.decode()
    assert "row 2: &#x27;email&#x27; &#x27;zed@&#x27; is not an e-mail address" in html
    assert "row 3: &#x27;id&#x27; is empty" in html
    assert not Contact.objects.filter(customer_id="C-9").exists()
    good = SimpleUploadedFile("c.csv", b"id,name,handles,tier\nC-9,Zed,x:zed,vip\n")
    response = client.post(reverse("contacts:import"), {"file": good, "dry_run": "on"})
    assert "(dry run: nothing was changed)" in response.content.decode()
    assert not Contact.objects.filter(customer_id="C-9").exists()
    good.seek(0)
    response = client.post(reverse("contacts:import"), {"file": good})
    assert response.status_code == 200
    assert Contact.objects.get(customer_id="C-9").tier == "vip"


def test_supervisors_download_the_export_and_agents_may_not(client, carol, agent,
                                                           supervisor):
    client.force_login(agent)
    assert client.get(reverse("contacts:export", args=[carol.pk])).status_code == 403
    assert "contacts:export" not in client.get(
        reverse("contacts:profile", args=[carol.pk])).content.decode()
    client.force_login(supervisor)
    response = client.get(reverse("contacts:export", args=[carol.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{carol.pk}.json"')
    data = json.loads(response.content)
    assert data["contact"]["id"] == carol.pk and data["posts"][0]["text"] == COMPLAINT
    event = Event.objects.get(verb="contact.exported")
    assert event.actor == supervisor and event.data == {"contact": carol.pk, "via": "web"}


def test_only_admins_erase_and_only_after_typing_the_number(client, carol, supervisor,
                                                           admin_user):
    url = reverse("contacts:erase", args=[carol.pk])
    client.force_login(supervisor)
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirm": carol.pk}).status_code == 403
    client.force_login(admin_user)
    assert "Type the contact" in client.get(url).content.decode()
    response = client.post(url, {"confirm": carol.pk + 1})
    assert response.status_code == 422 and f"Type {carol.pk} to confirm" in (
        response.content.decode())
    carol.refresh_from_db()
    assert carol.erased_at is None
    response = client.post(url, {"confirm": f" {carol.pk} "})
    assert response.status_code == 302
    carol.refresh_from_db()
    assert carol.erased_at is not None and carol.name == ""
    html = client.get(reverse("contacts:profile", args=[carol.pk])).content.decode()
    assert "This contact was erased" in html and COMPLAINT not in html


def test_the_main_navigation_links_the_contacts(client, agent):
    client.force_login(agent)
    html = client.get(reverse("web:inbox")).content.decode()
    assert f'<a href="{reverse("contacts:list")}">Contacts</a>' in html
