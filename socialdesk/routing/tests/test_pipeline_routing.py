"""Routing and assignment as posts arrive: the account owner, crisis cases, the queue."""

from conftest import make_user, post
from socialdesk.accounts.models import Team, User
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case
from socialdesk.contacts.models import Contact, Identity
from socialdesk.notifications.models import Notification
from socialdesk.routing.models import RoutingRule

COMPLAINT = "my kettle stopped working after a week, really disappointed"
CRISIS = "the kettle exploded and my son was burned, he is in hospital"


def known_customer(handle, owner, tier="customer"):
    contact = Contact.objects.create(name=handle, tier=tier, account_owner=owner)
    Identity.objects.create(channel="x", handle=handle, contact=contact)
    return contact


def test_a_known_customers_complaint_goes_to_their_account_owner(feed, teams):
    sales = Team.objects.create(slug="sales-north", name="Sales North")
    owner = make_user("olivia", teams=[sales])
    make_user("alice", teams=[teams["care"]])
    known_customer("bigbuyer", owner)
    RoutingRule.objects.create(position=1, name="owned-accounts",
                               when={"has_account_owner": True, "category": ["complaint"]},
                               team="account_owner")
    feed(post("1", COMPLAINT, author="bigbuyer"), post("2", COMPLAINT, author="stranger"))
    owned = Case.objects.get(contact__name="bigbuyer")
    assert (owned.team, owned.assignee, owned.routing_rule) == (sales, owner, "owned-accounts")
    why = Event.objects.get(case=owned, verb="case.assigned").data["why"]
    assert "account owner" in why
    other = Case.objects.exclude(pk=owned.pk).get()
    assert other.team.slug == "care" and other.assignee.username == "alice"


def test_an_unavailable_account_owner_leaves_the_case_to_their_team(feed, teams):
    sales = Team.objects.create(slug="sales-north", name="Sales North")
    owner = make_user("olivia", teams=[sales])
    owner.availability = User.Availability.OFFLINE
    owner.save()
    colleague = make_user("oscar", teams=[sales])
    known_customer("bigbuyer", owner)
    RoutingRule.objects.create(position=1, name="owned-accounts",
                               when={"has_account_owner": True}, team="account_owner")
    feed(post("1", COMPLAINT, author="bigbuyer"))
    case = Case.objects.get()
    assert (case.team, case.assignee) == (sales, colleague)
    assert "olivia is not available" in Event.objects.get(verb="case.assigned").data["why"]


def test_a_crisis_goes_to_its_owner_team_despite_capacity_and_alerts_the_chain(feed, teams):
    pr = teams["pr"]
    boss = make_user("boss", role=User.Role.SUPERVISOR)
    pr.supervisor = make_user("priya", role=User.Role.SUPERVISOR)
    pr.parent = Team.objects.create(slug="exec", name="Executive", supervisor=boss)
    pr.save()
    responder = make_user("rob", teams=[pr])
    responder.capacity = 0
    responder.save()
    feed(post("1", CRISIS))
    case = Case.objects.get()
    assert (case.team, case.assignee, case.priority) == (pr, responder, "P0")
    alerted = set(Notification.objects.filter(verb="case.escalated", case=case)
                  .values_list("user__username", flat=True))
    assert alerted == {"priya", "boss"}


def test_a_case_waits_in_the_queue_when_the_team_is_full(feed, teams):
    alice = make_user("alice", teams=[teams["care"]])
    alice.capacity = 0
    alice.save()
    feed(post("1", COMPLAINT))
    case = Case.objects.get()
    assert case.assignee is None and case.team.slug == "care"
    assert "at capacity" in Event.objects.get(verb="case.queued").data["why"]


def test_posts_to_a_brand_account_go_to_the_team_that_runs_it(feed, teams):
    make_user("alice", teams=[teams["care"]])
    make_user("carl", teams=[teams["community"]])
    RoutingRule.objects.create(position=1, name="community-account",
                               when={"account": ["@KettleCo_Community"]}, team="community")
    feed(post("1", COMPLAINT, author="dana", account="@kettleco_community"),
         post("2", COMPLAINT, author="erin", account="kettleco_help"),
         post("3", COMPLAINT, author="finn"))
    from socialdesk.ingestion.models import Post

    routed = {p.external_id: (p.case.team.slug, p.case.routing_rule)
              for p in Post.objects.select_related("case__team")}
    assert routed["1"] == ("community", "community-account")
    assert routed["2"][0] == routed["3"][0] == "care"
    assert Post.objects.get(external_id="1").account == "kettleco_community"
