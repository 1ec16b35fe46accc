"""Helpers for the browser tests: finding chromium, logging in, watching a page."""

import os
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "a long test password 1"  # what conftest.make_user gives everyone
# Every payload of the XSS corpus leaves this mark if it runs: a global, the
# title, a dialog's message or a request path.
MARKER = "__xss"
HERE = Path(__file__).parent


def browser_missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no chromium at {CHROMIUM} (run scripts/install-browser, or set CHROMIUM)"
    return ""


def script(name: str) -> str:
    """A check that runs in the page: a JavaScript function kept beside the tests."""
    return (HERE / name).read_text(encoding="utf-8")


def open_page(page, path: str):
    """Go to a page and wait until htmx has loaded its partials."""
    response = page.goto(path)
    settle(page)
    return response


def settle(page) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def contact_pages() -> list[str]:
    """The contacts list, merge suggestions and the first contact's profile, where the
    desk has them."""
    from django.urls import Resolver404, resolve

    from socialdesk.contacts.models import Contact

    pages = []
    first = Contact.objects.order_by("id").first()
    profile = [f"/contacts/{first.pk}/"] if first else []
    for path in ["/contacts/", "/contacts/suggestions/", *profile]:
        try:
            resolve(path)
        except Resolver404:
            continue
        pages.append(path)
    return pages


def log_in(page, username: str, password: str = PASSWORD) -> None:
    open_page(page, "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    settle(page)


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


class Recorder:
    """Collects what a page must never do: open a dialog, throw, break its
    Content-Security-Policy, or show any sign that injected code ran."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("console", self._console)
        page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.problems.append(f"{dialog.type} dialog: {dialog.message!r} on {self.page.url}")
        dialog.dismiss()

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def _request(self, request) -> None:
        if MARKER in request.url:
            self.problems.append(f"{request.resource_type} request to {request.url}")

    def visit(self, path: str):
        """Open a page, then read its marks before the next navigation wipes them."""
        response = open_page(self.page, path)
        self.collect()
        return response

    def collect(self) -> None:
        marks = self.page.evaluate("""() => ({
            csp: window.__csp || [], ran: window.__xss !== undefined, title: document.title})""")
        where = self.page.url
        self.problems += [f"CSP violation on {where}: {v}" for v in marks["csp"]]
        if marks["ran"]:
            self.problems.append(f"an injected script set window.__xss on {where}")
        if marks["title"] == MARKER:
            self.problems.append(f"an injected script set the title on {where}")
