"""Post text, author handles and names, permalinks and topics are attacker-controlled.
In a real browser, nothing of the XSS corpus runs on any page that shows them, even
with the Content-Security-Policy switched off; with it on, our own pages break none
of its rules."""

import pytest
import yaml

from conftest import post
from socialdesk.cases import actions, notes
from socialdesk.cases.inbox import INBOX_VIEWS
from socialdesk.cases.models import Case
from socialdesk.cases.queries import thread
from socialdesk.notifications.models import Notification
from socialdesk.triage.actions import do_import_topics
from socialdesk.triage.topics import parse_topics
from socialdesk.web.forms import CHECKS
from tests.e2e.conftest import new_context
from tests.e2e.desk import HERE, MARKER, Recorder, contact_pages, log_in, script

PAYLOADS = [line for line in (HERE / "xss_payloads.txt").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("# ")]
DEFAULT_VIEW = next(iter(INBOX_VIEWS))
CRISIS = "the kettle exploded and my son was burned, he is in hospital"
CSP_RULES = ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'"]


def test_the_corpus_is_large_varied_and_every_payload_leaves_the_mark():
    assert len(PAYLOADS) >= 40 and len(set(PAYLOADS)) == len(PAYLOADS)
    assert all(MARKER in payload for payload in PAYLOADS)
    for kind in ("<script", "onerror=", "onload=", "javascript:", "data:text/html", '"><',
                 "{{7*7}}", "hx-get=", "hx-on::load", "\u202e", "\u200b", "＜script＞"):
        assert any(kind in payload for payload in PAYLOADS), kind


@pytest.fixture
def hostile_desk(feed, teams, admin_user, supervisor):
    """The corpus everywhere the desk shows outside text. Returns the cases whose pages
    to open, each with the post texts its thread must show exactly as stored."""
    n = len(PAYLOADS)
    topics = [{"slug": f"hostile-{i}", "name": payload[:120], "examples": [payload]}
              for i, payload in enumerate(PAYLOADS[:12])]
    do_import_topics(parse_topics(yaml.safe_dump({"topics": topics})))
    # One case per payload, for the inbox: subjects and contact names.
    feed(*[post(f"h{i}", payload, author=payload, author_name=PAYLOADS[(i + 7) % n],
                url=f"https://social.example/status/{i}?q={payload}")
           for i, payload in enumerate(PAYLOADS)])
    # One thread with every payload as a reply, by authors with hostile handles and
    # names: a single case page shows them all.
    feed(post("thread", "Anyone else had trouble with their order?", channel="facebook"),
         *[post(f"r{i}", payload, channel="facebook", author=payload,
                author_name=PAYLOADS[(i + 3) % n], in_reply_to="thread",
                url=f"https://facebook.example/{payload}", at=f"2026-11-16T10:{i:02d}:00+00:00")
           for i, payload in enumerate(PAYLOADS)])
    # Crisis cases need PR's approval: the care supervisor's replies wait for it,
    # and with no one in PR the admin is asked; notes tell the admin too.
    feed(*[post(f"c{i}", f"{CRISIS} {payload}", author=f"crisis{i}", author_name=payload,
                url=f"https://social.example/c/{payload}")
           for i, payload in enumerate(PAYLOADS[:3])])
    crises = list(Case.objects.filter(category="crisis").order_by("id"))
    for i, case in enumerate(crises):
        actions.do_submit_reply(case, supervisor, f"We are looking into it. {PAYLOADS[-i - 1]}",
                                "public", confirm_warnings=[check for check, _ in CHECKS])
        notes.do_add_note(case, supervisor, f"@{admin_user.username} {PAYLOADS[-i - 4]}")
    assert Notification.objects.filter(user=admin_user).exists()
    shown = [*crises, Case.objects.get(channel="facebook"),
             *Case.objects.filter(channel="x").exclude(category="crisis").order_by("id")[::15]]
    return {case.pk: [p.text for p in thread(case)] for case in shown}


def desk_pages(cases) -> list[str]:
    pages = [f"/?view={view}" for view in INBOX_VIEWS] + [f"/?view={DEFAULT_VIEW}&page=2"]
    pages += [f"/cases/{pk}/" for pk in sorted(cases)]
    pages += ["/approvals/", "/notifications/", "/reports/"]
    return pages + contact_pages()


def check_pages(recorder, cases) -> tuple[list[str], dict[str, str]]:
    """Open every page that shows hostile text: what would let it act, and each
    page's Content-Security-Policy."""
    inert = script("inert.js")
    problems, policies = [], {}
    for path in desk_pages(cases):
        response = recorder.visit(path)
        assert response.status == 200, f"{path}: {response.status}"
        policies[path] = response.headers.get("content-security-policy", "")
        problems += [f"{path}: {p}" for p in recorder.page.evaluate(inert, MARKER)]
        if path.startswith("/cases/"):
            # Shown, and shown as written: nothing dropped, nothing evaluated.
            shown = [t.strip() for t in
                     recorder.page.locator(".thread .post .text").all_inner_texts()]
            problems += [f"{path}: the thread shows {shown!r}, not {text!r}"
                         for text in cases[int(path.split("/")[2])] if text.strip() not in shown]
    return problems, policies


def summary(problems: list[str], per_page: int = 3) -> str:
    """The first few problems of each page: one broken template can yield hundreds."""
    shown: dict[str, list[str]] = {}
    for problem in problems:
        shown.setdefault(problem.split(": ", 1)[0], []).append(problem)
    return f"{len(problems)} problems:\n" + "\n".join(
        line for lines in shown.values() for line in lines[:per_page])


def test_nothing_of_the_corpus_runs_even_without_the_csp(browser, server, hostile_desk,
                                                        admin_user):
    """The escaping alone holds: the same pages with the policy bypassed."""
    context = new_context(browser, server, bypass_csp=True)
    try:
        page = context.new_page()
        recorder = Recorder(page)
        log_in(page, admin_user.username)
        problems, _ = check_pages(recorder, hostile_desk)
    finally:
        context.close()
    problems += recorder.problems
    assert not problems, summary(problems)


def test_the_pages_keep_their_csp_and_break_none_of_its_rules(page, recorder, hostile_desk,
                                                             admin_user):
    log_in(page, admin_user.username)
    problems, policies = check_pages(recorder, hostile_desk)
    problems += recorder.problems
    assert not problems, summary(problems)
    for path, policy in policies.items():
        assert all(rule in policy for rule in CSP_RULES), f"{path}: {policy!r}"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path


def test_template_syntax_in_a_post_is_shown_as_written(page, feed, agent):
    feed(post("t1", "{{7*7}} ${7*7} {% now 'Y' %} #{7*7}"))
    case = Case.objects.get()
    log_in(page, agent.username)
    page.goto(f"/cases/{case.pk}/")
    assert page.locator(".thread .post .text").inner_text() == "{{7*7}} ${7*7} {% now 'Y' %} #{7*7}"
