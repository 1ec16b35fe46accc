"""Browser tests: Debian's chromium, driven by Playwright, against the live test server.

Without chromium or Playwright they are skipped, with the reason; under CI=true they
fail instead, since CI installs both first (scripts/install-browser).
"""

import os
from importlib import import_module

import pytest
from django.db import connection

from tests.e2e.desk import CHROMIUM, Recorder, browser_missing

AUDIT_TRIGGERS = import_module("socialdesk.audit.migrations.0003_append_only_triggers")

# Every document gets this before its own scripts: violations of the page's
# Content-Security-Policy are kept where the test can read them.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
                    + ` at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="package")
def browser(django_db_blocker):
    """One headless chromium for all the browser tests in a row."""
    missing = browser_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests cannot run: {missing}", pytrace=False)
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django
    # refuses ORM calls from a thread with a running loop. Nothing here is async:
    # lift that check for as long as the browser runs, and only then.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        with django_db_blocker.unblock():
            _release_server_connections()
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def _release_server_connections() -> None:
    """The live server's threads keep their PostgreSQL connections (CONN_MAX_AGE) until
    the browser's sockets close, which may be after the test database is dropped.
    End the idle ones now, so that the database can be dropped."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                       "datname = current_database() AND pid <> pg_backend_pid() "
                       "AND state = 'idle'")


def new_context(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1280, "height": 800}, **options)
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_LISTENER)
    return context


@pytest.fixture
def context(browser, server):
    context = new_context(browser, server)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def recorder(page):
    """What the page did that it should not: dialogs, script errors, CSP violations."""
    return Recorder(page)


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    # Logging in through the form hashes each password: the strong default
    # would cost most of a test's time. The live server shares these settings.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _audit_triggers(create: bool) -> None:
    with connection.schema_editor() as editor:
        AUDIT_TRIGGERS.drop(None, editor)
        if create:
            AUDIT_TRIGGERS.create(None, editor)


@pytest.fixture(scope="package")
def audit_triggers_restored(django_db_setup, django_db_blocker):
    yield
    with django_db_blocker.unblock():
        _audit_triggers(create=True)


@pytest.fixture
def server(browser, live_server, transactional_db, audit_triggers_restored):
    """The live server. It needs a transactional database, emptied after each test:
    on SQLite that is a DELETE, which the append-only audit log refuses by trigger
    (PostgreSQL's TRUNCATE passes). The test runs with the triggers; they are lifted
    for the clean-up only, and put back for the tests that follow."""
    if connection.vendor != "sqlite":
        yield live_server
        return
    _audit_triggers(create=True)
    yield live_server
    _audit_triggers(create=False)
