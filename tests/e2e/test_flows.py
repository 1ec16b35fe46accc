"""The desk's main flows, driven only through the pages, as a person would: logging in,
working a complaint to resolved, approving a crisis reply, merging identities, search."""

import re

from conftest import make_user, post
from socialdesk.accounts.models import User
from socialdesk.cases.models import Case, Reply
from socialdesk.contacts.models import Contact
from socialdesk.routing.models import RoutingRule
from tests.e2e.desk import PASSWORD, log_in, log_out, open_page, settle

COMPLAINT = "@brightkettle my kettle stopped working after a week, really disappointed"
CRISIS = "the kettle exploded and my son was burned, he is in hospital"
ACK = "Sorry to hear that, Carol. We've sent you a DM to sort this out."
PRIVATE = "Hi Carol, could you send us your order number? We'll arrange a replacement today."


def flash(page) -> str:
    return page.locator(".flash").first.inner_text()


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_inbox(page, server, agent):
    open_page(page, "/approvals/")  # a page that needs a session sends to the login form
    assert "/login/" in page.url
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    settle(page)
    assert "/login/" in page.url
    assert "correct username and password" in page.get_by_role("alert").inner_text()

    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    assert page.url.endswith("/approvals/")
    assert page.get_by_role("heading", level=1).inner_text() == "Replies awaiting your approval"
    assert agent.username in page.locator("header").inner_text()
    log_out(page)
    open_page(page, "/")
    assert "/login/" in page.url


def test_an_agent_works_a_complaint_from_the_inbox_to_resolved(page, feed, teams):
    feed(post("1", COMPLAINT, author="carol", author_name="Carol Smith"))
    case = Case.objects.get()
    # Nobody was on Care when it came in: it waits in the team's queue.
    assert case.assignee is None and case.team.slug == "care"
    alice = make_user("alice", teams=[teams["care"]])

    log_in(page, alice.username)
    row = page.locator("tr", has_text="my kettle stopped working")
    row.get_by_role("link", name=case.ref).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith(case.ref)
    assert "waiting in the team's queue" in page.locator(".case-head").inner_text()

    page.get_by_role("button", name="Assign to me").click()
    settle(page)
    assert flash(page) == f"{case.ref} is assigned to you."
    assert "assigned to alice" in page.locator(".case-head").inner_text()

    both = page.get_by_role("form", name="Acknowledge publicly, continue privately")
    both.get_by_label("Public acknowledgement").fill(ACK)
    both.get_by_label("Private message").fill(PRIVATE)
    both.get_by_role("button", name="Send both").click()
    settle(page)
    assert flash(page).startswith("Acknowledgement and private message")
    thread = page.locator(".thread").inner_text()
    assert ACK in thread and PRIVATE in thread
    steps = page.locator(".steps").inner_text()
    assert "Done: Acknowledge publicly" in steps and "Done: Continue privately" in steps

    page.get_by_label("Status").select_option(label="Resolved")
    page.get_by_role("button", name="Set status").click()
    settle(page)
    assert flash(page) == f"{case.ref} is now resolved."
    assert "Resolved" in page.get_by_role("heading", level=1).inner_text()

    open_page(page, "/?view=resolved")
    assert page.get_by_role("link", name=case.ref).is_visible()

    case.refresh_from_db()
    assert (case.status, case.assignee) == (Case.Status.RESOLVED, alice)
    replies = {r.visibility: r for r in Reply.objects.filter(case=case)}
    assert set(replies) == {"public", "private"}
    assert (replies["public"].text, replies["private"].text) == (ACK, PRIVATE)
    assert all(r.author == alice and r.status == Reply.Status.SENT for r in replies.values())


def test_a_crisis_reply_waits_for_pr_and_goes_once_the_supervisor_approves(page, feed, teams):
    # Care answers first, for every case; crisis replies still need PR's approval
    # (the default policy's approvals). Someone in PR would approve their own.
    RoutingRule.objects.create(position=1, name="care-answers-first", team="care",
                               when={"category": ["crisis"]})
    alice = make_user("alice", teams=[teams["care"]])
    rosa = make_user("rosa", role=User.Role.SUPERVISOR)
    teams["pr"].supervisor = rosa
    teams["pr"].save()
    feed(post("1", CRISIS, author="dave"))
    case = Case.objects.get()
    assert (case.category, case.approval_by, case.assignee) == ("crisis", "pr", alice)

    log_in(page, alice.username)
    page.get_by_role("link", name=case.ref).click()
    settle(page)
    assert "need approval by pr" in page.locator(".approval-note").inner_text()
    text = "We're so sorry to hear this, Dave. Please check your DMs: we want to help right away."
    page.get_by_label("Reply text").fill(text)
    page.get_by_role("button", name="Send reply").click()
    settle(page)
    assert flash(page) == "Reply saved: it waits for approval by pr."
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.AWAITING_APPROVAL
    assert "Awaiting approval" in page.locator(f"#reply-{reply.pk}").inner_text()
    log_out(page)

    log_in(page, rosa.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    settle(page)
    item = page.locator(".approvals li", has_text=case.ref).first
    assert text in item.inner_text()
    item.get_by_role("button", name="Approve and send").click()
    settle(page)
    assert flash(page) == f"Reply approved: {case.ref} is on its way."
    assert "No replies are waiting for you." in page.locator("main").inner_text()

    reply.refresh_from_db()
    assert reply.status in (Reply.Status.QUEUED, Reply.Status.SENT)
    assert (reply.reviewed_by, reply.text) == (rosa, text)


def test_an_agent_merges_the_same_person_on_two_channels(page, feed, agent):
    feed(post("1", COMPLAINT, author="carolsmith", author_name="Carol Smith"),
         post("2", "Still no answer about my broken kettle, I wrote on X too", channel="facebook",
              author="carol.smith.1985", author_name="Carol Smith"))
    on_x, on_facebook = Case.objects.order_by("id")
    log_in(page, agent.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    settle(page)
    page.get_by_label("Name, handle, e-mail or customer id").fill("carol")
    page.get_by_role("button", name="Search").click()
    settle(page)
    rows = page.locator("table.contacts tbody tr")
    assert rows.count() == 2
    rows.filter(has_text="facebook: @carol.smith.1985").get_by_role("link").click()
    settle(page)
    number = page.locator(".contact-facts div", has_text="Contact").locator("dd").inner_text()
    assert number == f"#{on_facebook.contact_id}"

    page.go_back()
    settle(page)
    rows.filter(has_text="x: @carolsmith").get_by_role("link").click()
    settle(page)
    page.get_by_label("Number of the contact to merge into this one").fill(number.lstrip("#"))
    page.get_by_role("button", name="Merge into this contact").click()
    settle(page)
    assert flash(page).startswith(f"Contact {on_facebook.contact_id} merged into this one")
    identities = page.locator(".identities").inner_text()
    assert "@carolsmith" in identities and "@carol.smith.1985" in identities
    cases = page.locator("table.cases").inner_text()
    assert on_x.ref in cases and on_facebook.ref in cases

    on_facebook.refresh_from_db()
    assert on_facebook.contact_id == on_x.contact_id
    assert Contact.objects.get(pk=int(number.lstrip("#"))).merged_into_id == on_x.contact_id


def test_an_agent_finds_a_case_by_searching_the_inbox(page, feed, agent):
    feed(post("1", COMPLAINT, author="carol"),
         post("2", "The descaler left white flakes in my kettle, is that safe?", author="erin"),
         post("3", "Where is my order? Tracking has not moved since Monday", author="frank"))
    flakes = Case.objects.get(contact__identities__handle="erin")
    log_in(page, agent.username)
    search = page.get_by_role("search", name="Search and filter cases")
    search.get_by_label("Search", exact=True).fill('"white flakes" kettle')
    search.get_by_role("button", name="Search", exact=True).click()
    settle(page)
    assert "q=" in page.url
    links = page.locator("#inbox-results").get_by_role("link", name=re.compile(r"^C-\d+$"))
    assert links.all_inner_texts() == [flakes.ref]

    search.get_by_label("Search", exact=True).fill("kettle -flakes")
    search.get_by_role("button", name="Search", exact=True).click()
    settle(page)
    assert links.all_inner_texts() == [Case.objects.get(contact__identities__handle="carol").ref]
