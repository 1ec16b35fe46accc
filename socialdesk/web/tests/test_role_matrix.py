"""Every route of the project, for every role: who reaches it, who is sent to log in,
and who is told that the thing does not exist.

The routes are found by walking the URL resolver (the admin site and the JSON API
included), and each must have a line in ROUTES (or belong to a family in FAMILIES):
a route added without one fails `test_every_route_has_a_line_in_the_table`, naming it.
Every object the routes take by id belongs to the care team, so the two people of
the comms team (an agent and their supervisor) exercise cross-team access by id on
every such route.

A line reads: route name (namespace:name; the pattern for an unnamed route) →
E(method, anonymous, agent, outsider, supervisor, other_supervisor, admin[, data]):

    anonymous          no session, no token
    agent              alice, an agent of care (owner of the API token in token_id)
    outsider           mallory, an agent of comms
    supervisor         sam, supervisor of care (care.supervisor)
    other_supervisor   sue, supervisor of comms
    admin              ada, role admin, staff and superuser

Each cell is one of: OK (reached and done: 2xx, or a redirect elsewhere than a login
page, with no error message flashed), REFUSED (reached, the request refused with a
message: 400, 409, 422 or an error flashed), FORBIDDEN (403), NOT_FOUND (404), LOGIN
(redirected to a login page), UNAUTHORIZED (401, the API without a token), REACHED
(any of the page's own answers; for the admin site's family), or any other status as
a number in a string ("405"). `data`: what is sent (a dict, or a function of the
World): form fields, query parameters for a GET, JSON for the API. People call the
pages with a session and the API (paths under api/) with their own token. A second
line for the same route (another method, other data) is keyed "name word", e.g.
"account:tokens POST". An id a route takes is filled from IDS by its name.

A route that takes an id must answer 404 to comms' people, or say why not in
NOT_404_FOR_OTHER_TEAMS. A cell where a route does not follow the rule yet goes in
PENDING with the reason (the line keeps what the rule wants). A route with no line
fails the big test with a suggested line built from what it answers now.

Every request runs in a transaction that is rolled back, so no line changes what
another meets.
"""

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from conftest import make_user
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.accounts.models import User
from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.models import Case, Reply, SavedReply
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.connectors.models import ChannelAccount
from socialdesk.connectors.webhook import do_add_source
from socialdesk.contacts.merging import do_merge_contacts
from socialdesk.contacts.models import Contact, MergeSuggestion
from socialdesk.contacts.tags import do_add_tag
from socialdesk.triage.actions import active_policy, do_install_policy
from socialdesk.triage.models import ResponsePolicy
from socialdesk.triage.policy import DEFAULT_POLICY_PATH
from socialdesk.web.tests.matrix import (
    FORBIDDEN,
    GET,
    LOGIN,
    NOT_FOUND,
    OK,
    POST,
    REACHED,
    REFUSED,
    ROLES,
    UNAUTHORIZED,
    Caller,
    E,
    Route,
    World,
    is_html_page,
    routes,
    suggestion,
)

SORRY = "Sorry to hear that, we've sent you a DM."


def _candidate_policy() -> str:
    return DEFAULT_POLICY_PATH.read_text().replace("name: Default response matrix",
                                                   "name: Candidate", 1)


def _correction(w) -> dict:
    p = f"post{w.post.pk}"
    return {f"{p}-category": "question", f"initial-{p}-category": "complaint",
            f"{p}-sentiment": "negative", f"initial-{p}-sentiment": "negative",
            f"{p}-decision": "respond", f"initial-{p}-decision": "respond"}


ROUTES: dict[str, E] = {
    # The desk's pages. Case routes: 404 for the other team (no hint the case exists).
    "web:inbox": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "web:case": E(GET, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "web:reply": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                   {"text": SORRY, "visibility": "public"}),
    "web:acknowledge": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                         {"ack-public_text": SORRY,
                          "ack-private_text": "Hi Carol, could you send us your order number?"}),
    "web:note": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                  {"note-text": "Called her back.", "note-kind": "note"}),
    # (A check-back waits for the case to be resolved: reached, and refused with why.)
    "web:check_back": E(POST, LOGIN, REFUSED, NOT_FOUND, REFUSED, NOT_FOUND, REFUSED,
                        {"checkback-action": "Check the kettle arrived", "checkback-hours": "48",
                         "checkback-on_expiry": "remind"}),
    "web:presence": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "web:assign_to_me": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "web:status": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK, {"status": "pending"}),
    "web:correct_triage": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK, _correction),
    # A reply held for the case team's supervisor: the agent sees it but may not approve.
    "web:approve_reply": E(POST, LOGIN, REFUSED, NOT_FOUND, OK, NOT_FOUND, OK),
    "web:return_reply": E(POST, LOGIN, REFUSED, NOT_FOUND, OK, NOT_FOUND, OK,
                          lambda w: {f"r{w.held_reply.pk}-comment": "Say sorry first."}),
    # Only a reply that was not delivered is sent again, or marked delivered: reached,
    # and refused with why (the world's reply awaits approval).
    "web:retry_reply": E(POST, LOGIN, REFUSED, NOT_FOUND, REFUSED, NOT_FOUND, REFUSED),
    "web:confirm_delivered": E(POST, LOGIN, REFUSED, NOT_FOUND, REFUSED, NOT_FOUND, REFUSED),
    "web:approvals": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "web:report": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "web:login": E(GET, OK, OK, OK, OK, OK, OK),
    "web:logout": E(POST, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    "web:healthz": E(GET, OK, OK, OK, OK, OK, OK),
    "web:healthz_ready": E(GET, OK, OK, OK, OK, OK, OK),
    "web:healthz_live": E(GET, OK, OK, OK, OK, OK, OK),
    "notifications:list": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "notifications:read": E(POST, LOGIN, OK, OK, OK, OK, OK),
    "notifications:count": E(GET, LOGIN, OK, OK, OK, OK, OK),
    # The person's own account: a token is its owner's alone (admins revoke in the admin).
    "account:tokens": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "account:tokens POST": E(POST, LOGIN, OK, OK, OK, OK, OK, {"name": "CRM sync"}),
    "account:revoke_token": E(POST, LOGIN, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "account:password": E(GET, LOGIN, OK, OK, OK, OK, OK),
    # The JSON API: a token per person; the same visibility as the pages.
    "api:openapi-json": E(GET, UNAUTHORIZED, OK, OK, OK, OK, OK),
    "api:openapi-view": E(GET, UNAUTHORIZED, OK, OK, OK, OK, OK),
    "api:api-root": E(GET, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "api:import_posts": E(POST, UNAUTHORIZED, OK, OK, OK, OK, OK, {"records": []}),
    # Signed by a source's secret, not by anyone's token: unsigned, it is 401 for all.
    "api:webhook_posts": E(POST, UNAUTHORIZED, UNAUTHORIZED, UNAUTHORIZED, UNAUTHORIZED,
                           UNAUTHORIZED, UNAUTHORIZED, {"records": []}),
    "api:triage_posts": E(POST, UNAUTHORIZED, OK, OK, OK, OK, OK, {"records": []}),
    "api:list_cases": E(GET, UNAUTHORIZED, OK, OK, OK, OK, OK),
    "api:get_case": E(GET, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "api:correct_post": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                          {"field": "category", "value": "question"}),
    "api:list_corrections": E(GET, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "api:submit_reply": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                          {"text": SORRY, "visibility": "public"}),
    "api:approve_reply": E(POST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK, {}),
    # The world's reply awaits approval: nothing to send again or mark delivered (422).
    "api:retry_reply": E(POST, UNAUTHORIZED, REFUSED, NOT_FOUND, REFUSED, NOT_FOUND, REFUSED),
    "api:confirm_delivered": E(POST, UNAUTHORIZED, REFUSED, NOT_FOUND, REFUSED, NOT_FOUND,
                               REFUSED),
    "api:return_reply": E(POST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK,
                          {"comment": "Say sorry first."}),
    "api:add_note": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                      {"text": "Called her back."}),
    "api:list_follow_ups": E(GET, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    # The inbox, its live changes and bulk actions (all or nothing: one case out of
    # reach refuses the lot), and the composer's helpers.
    "web:inbox_changes": E(GET, LOGIN, OK, OK, OK, OK, OK,
                           lambda w: {"since": timezone.now().isoformat()}),
    "web:inbox_bulk": E(POST, LOGIN, OK, REFUSED, OK, REFUSED, OK,
                        lambda w: {"action": "assign_me", "ids": [w.case.pk]}),
    "web:check_reply": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                         {"text": SORRY, "visibility": "public"}),
    "web:check_acknowledge": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                               {"public_text": SORRY, "private_text": "Your order number?"}),
    "web:saved_reply_text": E(GET, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "web:priority": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK, {"priority": "P1"}),
    "web:tags": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK, {"add": "billing"}),
    # Agents take a case; only its team's supervisor and admins hand it to someone else.
    "web:assign": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                    lambda w: {"assignee": w.people["agent"].pk}),
    "web:assign to-a-teammate": E(POST, LOGIN, REFUSED, NOT_FOUND, OK, NOT_FOUND, OK,
                                  lambda w: {"assignee": w.teammate.pk}),
    # Saved replies are kept by supervisors (their teams') and admins (all).
    "web:saved_replies": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, OK),
    "web:saved_reply": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, OK, NOT_FOUND, OK),
    "web:saved_reply_delete": E(POST, LOGIN, FORBIDDEN, FORBIDDEN, OK, NOT_FOUND, OK),
    # The response policy: supervisors and admins read it; only admins change it.
    "web:policy": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, OK),
    "web:policy_version": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, OK),
    "web:policy_download": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, OK),
    "web:policy_edit": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "web:policy_edit check": E(POST, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,
                               lambda w: {"action": "check", "source": _candidate_policy()}),
    "web:policy_edit install": E(POST, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,
                                 lambda w: {"action": "install",
                                            "source": _candidate_policy()}),
    "web:policy_activate": E(POST, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    # Hiding a comment, or deleting our own reply, on the channel: whoever may work the case.
    "web:moderate": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                      {"action": "hide", "reason": "spam"}),
    "api:moderate_post": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                           {"action": "hide", "reason": "spam"}),
    # The brand's channel accounts: only admins connect, change and remove them.
    "web:channel_accounts": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "web:channel_account_connect": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN,
                                     OK),
    "web:channel_account_connect POST": E(
        POST, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,
        lambda w: {"channel": "x", "handle": "brand_two", "poll_seconds": "60",
                   "s_directory": str(settings.BASE_DIR)}),
    "web:channel_account": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "web:channel_account_action": E(POST, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN,
                                    OK, {"action": "pause"}),
    # The provider's page sends the admin back here; without the state of a sign-in
    # this admin started, the return is refused.
    "web:channel_account_signed_in": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN,
                                       REFUSED),
    # Contacts: a person sees the contacts of the cases they may see.
    "contacts:list": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "contacts:suggestions": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "contacts:decide": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                         {"decision": "reject", "next": "suggestions"}),
    "contacts:import": E(GET, LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "contacts:unmerge": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "contacts:profile": E(GET, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "contacts:note": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK, {"text": "Prefers DMs."}),
    "contacts:tag": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK, {"tag": "loyal"}),
    "contacts:untag": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK, {"tag": "kettles"}),
    "contacts:merge": E(POST, LOGIN, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                        lambda w: {"other": w.held_reply.case.contact_id}),
    "contacts:export": E(GET, LOGIN, FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK),
    "contacts:erase": E(GET, LOGIN, FORBIDDEN, NOT_FOUND, FORBIDDEN, NOT_FOUND, OK),
    "api:set_priority": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                          {"priority": "P1"}),
    "api:set_tags": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK, {"add": ["billing"]}),
    "api:list_saved_replies": E(GET, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "api:get_saved_reply": E(GET, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "api:list_inbox": E(GET, UNAUTHORIZED, OK, OK, OK, OK, OK),
    "api:bulk_action": E(POST, UNAUTHORIZED, OK, FORBIDDEN, OK, FORBIDDEN, OK,
                         lambda w: {"action": "assign_me", "case_ids": [w.case.pk]}),
    "api:get_contact": E(GET, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "api:list_contact_cases": E(GET, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "api:merge_contact": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK,
                           lambda w: {"other": w.held_reply.case.contact_id}),
    "api:unmerge": E(POST, UNAUTHORIZED, OK, NOT_FOUND, OK, NOT_FOUND, OK),
    "api:export_contact": E(GET, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK),
    # The admin site (all of it, by FAMILIES below) is for staff; these answer otherwise.
    "admin:login": E(GET, LOGIN, OK, OK, OK, OK, OK),
    "admin:logout": E(POST, LOGIN, OK, OK, OK, OK, LOGIN),
}

# Routes a framework makes by the dozen, by pattern prefix; a line in ROUTES wins. Staff
# reach every admin page (each model's admin then says what may be added or deleted).
FAMILIES: dict[str, E] = {
    "admin/": E(GET, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, REACHED),
}

# Routes anyone may call without logging in.
PUBLIC = {"web:login", "web:healthz", "web:healthz_ready", "web:healthz_live"}

# Routes that take an id yet answer the other team's people otherwise than 404, and why.
NOT_404_FOR_OTHER_TEAMS: dict[str, str] = {
    "web:saved_reply": "agents are refused the saved-replies pages (403) before any lookup",
    "web:saved_reply_delete": "agents are refused the saved-replies pages (403) before any "
                              "lookup",
    "web:policy_version": "policy versions belong to no team: agents are refused (403), "
                          "every supervisor reads them",
    "web:policy_download": "policy versions belong to no team: agents are refused (403), "
                           "every supervisor reads them",
    "web:policy_activate": "policy versions belong to no team: only admins activate one, "
                           "everyone else is refused (403)",
    "web:channel_account": "channel accounts belong to no team: only admins reach them, "
                           "everyone else is refused (403)",
    "web:channel_account_action": "channel accounts belong to no team: only admins reach "
                                  "them, everyone else is refused (403)",
    "web:channel_account_connect": "a connector's name, not an object of a team: only admins "
                                   "connect accounts, everyone else is refused (403)",
    "api:webhook_posts": "webhook sources belong to no team and take no token: a request is "
                         "judged by its signature (401 unsigned), not by who sends it",
}

# Cells where a route does not follow the rule yet, and why. The line says what the rule
# wants; the test requires the cell to still differ, so the entry goes when it is fixed.
PENDING: dict[tuple[str, str], str] = {}

# Where the id in a route comes from: every object is care's.
IDS = {
    "case_id": lambda w: w.case.pk,
    "post_id": lambda w: w.post.pk,
    "reply_id": lambda w: w.held_reply.pk,
    "slug": lambda w: w.webhook_source,
    "account_id": lambda w: ChannelAccount.objects.get_or_create(
        channel="x", handle="brand", listener="folder",
        config={"directory": str(settings.BASE_DIR)})[0].pk,
    "kind": lambda w: "folder",
    "token_id": lambda w: w.token.pk,
    "contact_id": lambda w: w.case.contact_id,
    "saved_id": lambda w: w.saved.pk,
    "merge_id": lambda w: w.merge.pk,
    "suggestion_id": lambda w: w.suggestion.pk,
    # The policy version installed before the active one.
    "version": lambda w: ResponsePolicy.objects.get(is_active=False).version,
    # The admin site's.
    "object_id": lambda w: w.case.pk,
    "id": lambda w: w.people["agent"].pk,
    "pk": lambda w: w.case.pk,
    "content_type_id": lambda w: ContentType.objects.get_for_model(Case).pk,
    "app_label": lambda w: "cases",
    "url": lambda w: "no-such-page/",
}


def expectations(route: Route) -> list[tuple[str, E]]:
    lines = [(k, e) for k, e in ROUTES.items() if k == route.key or k.startswith(route.key + " ")]
    if lines:
        return lines
    family = max((p for p in FAMILIES if route.pattern.startswith(p)), key=len, default=None)
    return [(route.key, FAMILIES[family])] if family else []


# --------------------------------------------------------------------------
# The world every line is tried against: every object is care's
# --------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def quick_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(teams, agent, teammate, outsider, supervisor, admin_user) -> World:
    care, comms = teams["care"], teams["comms"]
    other_supervisor = make_user("sue", role=User.Role.SUPERVISOR, teams=[comms])
    care.supervisor, comms.supervisor = supervisor, other_supervisor
    care.save()
    comms.save()
    case = make_case(care)
    held = make_case(care, approval_by="supervisor", approval_reason="VIP", handle="dora")
    held_reply = do_submit_reply(held, agent, SORRY, "public")
    assert held_reply.status == Reply.Status.AWAITING_APPROVAL
    contacts = sorted([case.contact, held.contact], key=lambda c: c.pk)
    do_add_tag(case.contact, "kettles", agent)
    active_policy()
    do_install_policy(_candidate_policy(), actor=admin_user)
    return World(
        case=case, post=case.posts.get(), held_reply=held_reply,
        token=do_create_api_token(agent, "matrix")[0],
        saved=SavedReply.objects.create(name="Sorry", text=SORRY, team=care),
        merge=do_merge_contacts(case.contact, Contact.objects.create(name="Carol again"), agent),
        suggestion=MergeSuggestion.objects.create(contact_a=contacts[0], contact_b=contacts[1],
                                                  reason="email"),
        people={"anonymous": None, "agent": agent, "outsider": outsider,
                "supervisor": supervisor, "other_supervisor": other_supervisor,
                "admin": admin_user},
        teammate=teammate,
        webhook_source=do_add_source("listening")[0].slug,
    )


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

def test_every_route_has_a_line_in_the_table():
    missing = [r.key for r in routes() if not expectations(r)]
    assert not missing, ("routes with no line in ROUTES (test_role_matrix.py); add one for "
                         "each, saying what every role meets: " + ", ".join(missing))


def test_the_table_names_no_route_that_is_gone():
    keys = {r.key for r in routes()}
    stale = [k for k in ROUTES if k.split(" ")[0] not in keys]
    assert not stale, f"lines for routes that no longer exist: {', '.join(stale)}"


def test_only_the_login_page_and_the_health_check_answer_without_a_login():
    for route in routes():
        for key, line in expectations(route):
            if route.key in PUBLIC:
                continue
            assert line.anonymous in (LOGIN, UNAUTHORIZED, NOT_FOUND), \
                f"{key}: anonymous visitors must log in (or meet 401 on the API)"


def test_every_route_that_takes_an_id_hides_the_other_teams_objects():
    for route in routes():
        if not route.params or route.pattern.startswith("admin/") \
                or route.key in NOT_404_FOR_OTHER_TEAMS:
            continue
        for key, line in expectations(route):
            assert (line.outsider, line.other_supervisor) == (NOT_FOUND, NOT_FOUND), \
                (f"{key} takes {', '.join(route.params)}: care's object must answer 404 to "
                 "comms' people (or say why not in NOT_404_FOR_OTHER_TEAMS)")


def test_every_route_answers_every_role_as_the_table_says(world):
    caller = Caller(world, IDS)
    wrong, no_policy, unlisted = [], [], []
    for route in routes():
        if not expectations(route):
            unlisted.append(suggestion(caller, route))
        for key, line in expectations(route):
            for role in ROLES:
                response = caller.call(route, line, role)
                got, want = caller.outcome(response), getattr(line, role)
                if want == REACHED and got not in (LOGIN, UNAUTHORIZED, "500"):
                    got = REACHED
                if (key, role) in PENDING:
                    if got == want:
                        wrong.append(f"{key} {role}: now {got} as the rule wants; remove its "
                                     "PENDING entry")
                elif got != want:
                    wrong.append(f"{key} [{line.method} {route.url(world, IDS)}] {role}: "
                                 f"expected {want}, got {got}")
                if is_html_page(response) and "Content-Security-Policy" not in response:
                    no_policy.append(f"{key} ({role})")
    assert not wrong, "\n".join(wrong)
    assert not unlisted, ("routes with no line in ROUTES; what they answer now, to check "
                          "against the rule before adding:\n" + "\n".join(unlisted))
    assert not no_policy, "HTML pages without a Content-Security-Policy: " + ", ".join(no_policy)
