"""Screenshots of the demo desk for the README and docs/screenshots/.

Builds the demo desk (the bundled sample and Brightkettle's org chart) in a
temporary data directory, serves it on a free port, and saves 1280×800 PNGs of
the inbox, a case, the approvals page, the report, a contact's profile, the
response policy and the channel accounts.

    python scripts/screenshots.py [--out docs/screenshots]

Needs chromium (scripts/install-browser) and Playwright (the `test` extra).
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SIZE = {"width": 1280, "height": 800}
# Replies that wait for approval, by who approves them: what the approvals page shows.
# (Only PR and Legal see their own cases, and may approve their replies themselves.)
DRAFTS = {
    "supervisor": "Hi {name}, thanks for bearing with us. I've asked our warehouse to send a "
                  "replacement today and will DM you the tracking number as soon as it ships.",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_demo(data_dir: Path) -> dict:
    """The demo desk, as `socialdesk demo` builds it, plus replies awaiting approval.
    Returns the passwords and the pages worth showing."""
    os.environ["SOCIALDESK_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "socialdesk.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from socialdesk.cases.models import Case
    from socialdesk.cases.queries import cases_visible_to
    from socialdesk.demo.setup import do_import_sample, do_set_up_accounts

    call_command("migrate", interactive=False, verbosity=0)
    passwords = do_set_up_accounts()
    report = do_import_sample(now=timezone.now())
    print(f"demo desk: {report.created} posts imported", file=sys.stderr)

    from socialdesk.accounts.models import User

    agent = User.objects.get(username="agent")
    # The agent's own complaint with the longest thread: a case page with some history.
    complaints = (cases_visible_to(agent).filter(status__in=Case.OPEN_STATUSES,
                                                 category="complaint")
                  .annotate(n=Count("posts")).order_by("-n", "id"))
    case = complaints.filter(assignee=agent).first() or complaints.first()
    for by, draft in DRAFTS.items():
        if not stage_approval(by, draft):
            print(f"no case waits for approval by {by}", file=sys.stderr)
    connection.close()
    return {"passwords": passwords, "case": case.pk, "contact": case.contact_id}


def stage_approval(by: str, draft: str) -> bool:
    """A reply awaiting approval by `by`, drafted by someone who may see the case but
    not approve it (an agent if one can, else a supervisor of another team)."""
    from socialdesk.accounts.models import User
    from socialdesk.cases.actions import ActionError, do_submit_reply
    from socialdesk.cases.models import Case
    from socialdesk.cases.queries import can_approve, cases_visible_to

    people = list(User.objects.exclude(role=User.Role.ADMIN).order_by("role", "id"))
    for case in Case.objects.filter(approval_by=by, status__in=Case.OPEN_STATUSES,
                                    replies__isnull=True).order_by("id"):
        author = next((u for u in people if cases_visible_to(u).filter(pk=case.pk).exists()
                       and not can_approve(u, case)), None)
        if author:
            opener = case.posts.filter(direction="inbound").order_by("created_at").first()
            name = (opener.author.name or opener.author.handle).split()[0]
            try:
                do_submit_reply(case, author, draft.format(name=name), "public")
            except ActionError as e:  # the guidelines refuse it for this case: try another
                print(f"{case.ref}: {e}", file=sys.stderr)
                continue
            return True
    return False


def serve(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "SOCIALDESK_DATA_DIR": str(data_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "socialdesk.cli", "serve", "--port", str(port), "--no-clock"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {server.stderr.read()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not answer within a minute")


def shoot(base: str, demo: dict, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    shots = [("agent", "inbox.png", "/"),
             ("agent", "case.png", f"/cases/{demo['case']}/"),
             ("admin", "approvals.png", "/approvals/"),
             ("admin", "report.png", "/reports/"),
             ("admin", "contact.png", f"/contacts/{demo['contact']}/"),
             ("admin", "policy.png", "/policy/"),
             ("admin", "channels.png", "/channels/")]
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for username in ("agent", "admin"):
            context = browser.new_context(base_url=base, viewport=SIZE)
            page = context.new_page()
            page.goto("/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(demo["passwords"][username])
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(lambda url: "/login/" not in url)
            for who, name, path in shots:
                if who != username:
                    continue
                response = page.goto(path)
                if response.status != 200:
                    print(f"{path}: HTTP {response.status}, no {name}", file=sys.stderr)
                    continue
                page.wait_for_load_state("networkidle")
                page.screenshot(path=out / name)
                saved.append(out / name)
            context.close()
        browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots",
                        help="where the PNGs go (default: docs/screenshots)")
    args = parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        print(f"screenshots: no chromium at {CHROMIUM}: run scripts/install-browser",
              file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    # The demo runs embedded (SQLite, in-process tasks), whatever this shell points at.
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="socialdesk-demo-") as tmp:
        data_dir = Path(tmp)
        demo = build_demo(data_dir)
        port = free_port()
        server = serve(data_dir, port)
        try:
            saved = shoot(f"http://127.0.0.1:{port}", demo, args.out)
        finally:
            server.terminate()
            server.wait(timeout=20)
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
