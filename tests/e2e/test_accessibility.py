"""Every main page, in the browser: controls have names, images have alt text, one h1
and a language; Tab reaches every control in document order and each shows where the
focus is; text keeps a contrast of at least 4.5:1 (3:1 when large)."""

import pytest

from conftest import post
from socialdesk.cases import actions, notes
from socialdesk.cases.models import Case
from socialdesk.triage.actions import active_policy, do_install_policy
from tests.e2e.desk import contact_pages, log_in, open_page, script, settle

COMPLAINT = "my kettle stopped working after a week, really disappointed"
CRISIS = "the kettle exploded and my son was burned, he is in hospital"
# WCAG 1.4.11: a focus ring needs 3:1 against what surrounds it.
RING_CONTRAST = 3.0


def audit(page, path: str) -> list[str]:
    response = open_page(page, path)
    if response.status != 200:
        return [f"{path}: HTTP {response.status}"]
    found = page.evaluate(script("a11y.js"))
    problems = found["problems"] + keyboard_walk(page, found["controls"])
    return [f"{path}: {problem}" for problem in problems]


def keyboard_walk(page, controls: int) -> list[str]:
    """Tab through the page: every control once, in document order, each visibly focused."""
    focus = script("focus.js")
    problems, visits, looks, previous = [], [], {}, None
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(2 * controls + 4):
        page.keyboard.press("Tab")
        step = page.evaluate(focus, previous)
        if step["order"] == previous:
            continue  # still in the same control: the parts of a date field
        if previous is not None and step["before"] == looks[previous][0]:
            problems.append(f"focus looks the same as no focus: {looks[previous][1]}")
        previous = None
        if step["order"] is None:
            continue  # focus left the page for the browser's own controls
        if step["order"] == "untagged":
            problems.append(f"Tab reached something that is not a visible control: {step['what']}")
            continue
        previous = step["order"]
        looks[previous] = (step["look"], step["what"])
        if not step["indicated"]:
            problems.append(f"no focus outline or shadow: {step['what']}")
        elif step["ring"] is not None and step["ring"] < RING_CONTRAST:
            problems.append(f"focus ring contrast {step['ring']:.2f}:1: {step['what']}")
        if previous not in visits:
            visits.append(previous)
        if len(visits) == controls and previous == visits[0]:
            break
    # Tab may start mid-page (an autofocused field): compare from the first control.
    if 0 in visits:
        start = visits.index(0)
        visits = visits[start:] + visits[:start]
    if visits != list(range(controls)):
        problems.append(f"Tab order {visits} is not the document's order of {controls} controls")
    return problems


def test_the_login_page_is_accessible(page, server):
    problems = audit(page, "/login/")
    assert not problems, "\n".join(problems)


@pytest.fixture
def busy_desk(feed, teams, supervisor, admin_user):
    """A complaint, and a crisis whose reply waits for approval: the page's forms."""
    feed(post("1", COMPLAINT, author="carol", author_name="Carol Smith",
              url="https://x.example/carol/status/1"),
         post("2", CRISIS, author="dave", author_name="Dave Jones"))
    crisis = Case.objects.get(category="crisis")
    actions.do_submit_reply(crisis, supervisor, "We're so sorry, Dave. Please check your DMs.",
                            "public")
    notes.do_add_note(crisis, supervisor, f"@{admin_user.username} please look at this one")
    return Case.objects.get(category="complaint"), crisis


def test_the_desk_pages_are_accessible(page, busy_desk, admin_user):
    complaint, crisis = busy_desk
    first = active_policy().version  # a second version: the first's page shows a diff
    do_install_policy(active_policy().source + "\n# reviewed\n", actor=admin_user)
    log_in(page, admin_user.username)
    problems = []
    for path in ["/", f"/cases/{complaint.pk}/", f"/cases/{crisis.pk}/", "/approvals/",
                 "/reports/", "/notifications/", *contact_pages(), "/policy/",
                 f"/policy/{first}/", "/policy/edit/"]:
        problems += audit(page, path)
    assert not problems, "\n".join(problems)


def test_a_policy_simulation_is_accessible(page, busy_desk, admin_user):
    log_in(page, admin_user.username)
    open_page(page, "/policy/edit/")
    page.get_by_role("button", name="Simulate").click()
    page.wait_for_selector("#report-h")
    settle(page)
    found = page.evaluate(script("a11y.js"))
    problems = found["problems"] + keyboard_walk(page, found["controls"])
    assert not problems, "\n".join(problems)
