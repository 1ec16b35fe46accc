"""What a platform connector adds to the pipeline's cost, and how fast the outbox
delivers through it.

    python bench/connectors.py -n 5000 --replies 300

For each connector, against local servers:

- e-mail: a private Dovecot (IMAP) and aiosmtpd (SMTP), the servers its tests
  use (socialdesk/connectors/email/tests/servers.py);
- Mastodon: a local server answering the documented API (the one its tests
  use, socialdesk/connectors/mastodon/tests/server.py), in its own process so
  that its work is not counted as the desk's;
- Bluesky: the AT Protocol's reference services (a PDS and the AppView, from
  tests/servers/bluesky, as its tests run them), with customers' posts that
  mention the brand, made through the PDS before the measurement;

it measures, from an empty embedded database (SQLite in a temp dir), with
everything in one process (TRIAGE_PROCESSES=1):

- imported: the same posts, as import records, through `import_records`;
- heard: the posts on the platform, fetched by the clock's `do_poll_account`
  (in the platform's pages) until every one is stored and processed;
- delivered: replies to the first cases, each through `cases.tasks.deliver_reply`
  as the embedded desk's worker runs it.

Reports posts/s and the desk process' CPU seconds for each (the servers' work
is not the desk's), the connector's extra CPU per post (goal: under 20%), and
replies delivered/s.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
FIRST_NOTIFICATION = 900001


def statuses(n: int) -> list[dict]:
    """Inbound synthetic posts as Mastodon statuses: id, author, text, thread."""
    from synthetic import posts

    ids, out = {}, []
    for number, post in enumerate(p for p in posts(n * 2) if p.get("direction") != "outbound"):
        if len(out) == n:
            break
        status_id = str(113600000000000000 + number)
        ids[post["external_id"]] = status_id
        out.append({"id": status_id, "acct": f"{post['author']}@other.example",
                    "text": post["text"], "at": post["created_at"],
                    "reply_to": ids.get(post.get("in_reply_to", ""))})
    return out


def serve(port: int, n: int) -> None:
    """The Mastodon server, holding `n` mentions of the brand."""
    import logging

    from pytest_httpserver import HTTPServer

    from socialdesk.connectors.mastodon.tests.server import FakeMastodon

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    httpserver = HTTPServer(host="127.0.0.1", port=port, threaded=True)
    server = FakeMastodon(httpserver)
    for status in statuses(n):
        user = status["acct"].split("@")[0]
        server.mention(server.status(
            f"<p>{status['text']}</p>", author={"id": str(hash(user) % 10**9), "username": user,
                                                "acct": status["acct"]},
            in_reply_to=status["reply_to"], status_id=status["id"],
            at=status["at"].replace("+00:00", ".000Z")))
    server.next_id = 113700000000000000
    httpserver.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    httpserver.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def mails(n: int) -> list[dict]:
    """Inbound synthetic posts as e-mails: Message-ID, sender, subject, body, thread."""
    from synthetic import posts

    out = []
    for post in posts(n * 2):
        if len(out) == n:
            break
        if post.get("direction") == "outbound":
            continue
        out.append({"id": f"{post['external_id']}@example.net",
                    "from": f"{post['author']}@example.net", "subject": "My order",
                    "body": post["text"], "at": post["created_at"],
                    "reply_to": f"{post['in_reply_to']}@example.net"
                    if post.get("in_reply_to") else ""})
    return [m for m in out if not m["reply_to"] or m["reply_to"] in {o["id"] for o in out}]


def fill_mailbox(mailbox, messages: list[dict]) -> None:
    """The messages in the mailbox's INBOX, the way mail arrives: APPEND."""
    from datetime import datetime
    from email.message import EmailMessage
    from email.utils import format_datetime

    client = mailbox.client()
    try:
        for m in messages:
            mail = EmailMessage()
            mail["From"], mail["To"] = m["from"], mailbox.address
            mail["Subject"], mail["Message-ID"] = m["subject"], f"<{m['id']}>"
            mail["Date"] = format_datetime(datetime.fromisoformat(m["at"]))
            if m["reply_to"]:
                mail["In-Reply-To"] = mail["References"] = f"<{m['reply_to']}>"
            mail.set_content(m["body"])
            status, said = client.append("INBOX", None, None, mail.as_bytes())
            assert status == "OK", said
    finally:
        client.logout()


class Run:
    """One connector's three measurements."""

    def __init__(self, name: str, n: int):
        self.name, self.n = name, n

    def report(self) -> None:
        extra = 100 * (self.heard_cpu / self.imported_cpu - 1)
        print(f"{self.name}: imported {self.n / self.imported:,.0f} posts/s "
              f"({self.imported:.1f} s, {self.imported_cpu:.1f} s CPU); heard "
              f"{self.n / self.heard:,.0f} posts/s ({self.heard:.1f} s, {self.heard_cpu:.1f} s "
              f"CPU): the connector adds {extra:+.0f}% CPU per post")
        if self.queued:
            print(f"{self.name}: delivered {self.sent / self.delivered:,.1f} replies/s "
                  f"({self.sent} of {self.queued} sent in {self.delivered:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="posts heard (up to 100,000)")
    parser.add_argument("--replies", type=int, default=300, help="replies delivered")
    parser.add_argument("--only", choices=("email", "mastodon", "bluesky"),
                        help="one connector")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.n)
    if not 1 <= args.n <= 100_000 or not 0 <= args.replies <= args.n:
        parser.error("-n must be 1 to 100,000 and --replies 0 to n")
    os.environ["SOCIALDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="socialdesk-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("DATABASE_URL", None)
    # Everything in this process, triage included, so that its CPU time is the
    # desk's whole cost per post on either path.
    os.environ["TRIAGE_PROCESSES"] = "1"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from socialdesk.accounts.actions import do_ensure_teams
    from socialdesk.accounts.models import User
    from socialdesk.cases.actions import do_submit_reply
    from socialdesk.cases.models import Case, Reply
    from socialdesk.cases.tasks import deliver_reply
    from socialdesk.connectors.listening import do_poll_account
    from socialdesk.connectors.models import ChannelAccount
    from socialdesk.ingestion.importer import import_records
    from socialdesk.ingestion.models import Post
    from socialdesk.ingestion.records import read_jsonl
    from socialdesk.lib import queue

    def fresh_database():
        connection.close()
        Path(connection.settings_dict["NAME"]).unlink(missing_ok=True)
        call_command("migrate", verbosity=0)

    def measure(run: Run, lines: list[bytes], account: ChannelAccount, visibility: str) -> None:
        fresh_database()
        # The triage models load with the first batch: loaded before either run.
        import_records(read_jsonl(lines[:1], 40_000))
        fresh_database()
        run.imported, run.imported_cpu = timed(lambda: import_records(read_jsonl(lines, 40_000)))
        assert Post.objects.count() == run.n, "the import stored them all"

        fresh_database()
        account.pk = None
        account.save()

        def hear():
            while Post.objects.filter(processed_at__isnull=False).count() < run.n:
                account.refresh_from_db()
                report = do_poll_account(account)
                assert report is not None and not report.error and not report.rejected, report

        run.heard, run.heard_cpu = timed(hear)
        agent = User.objects.create(username="bench-agent", role=User.Role.ADMIN)
        agent.teams.set(do_ensure_teams({"care"}).values())
        # Written first, delivered after: the queue holds them meanwhile.
        enqueue, queue.enqueue = queue.enqueue, lambda *_: True
        replies = [do_submit_reply(case, agent, "Sorry to hear that, we are on it.", visibility)
                   for case in Case.objects.order_by("id")[:args.replies]]
        queue.enqueue = enqueue
        queued = [r.pk for r in replies if r.status == Reply.Status.QUEUED]
        run.delivered, _ = timed(lambda: [deliver_reply(pk) for pk in queued])
        run.queued = len(queued)
        run.sent = Reply.objects.filter(pk__in=queued, status=Reply.Status.SENT).count()
        run.report()

    print(f"{args.n:,} posts and {args.replies:,} replies a connector, embedded (SQLite), "
          "one process")
    if args.only in (None, "email"):
        from socialdesk.connectors.email.tests.servers import (
            PASSWORD,
            Mailbox,
            SmtpServer,
            running_dovecot,
        )

        messages = mails(args.n)
        lines = [json.dumps({"channel": "email", "external_id": m["id"], "author": m["from"],
                             "text": f"{m['subject']}\n\n{m['body']}", "created_at": m["at"],
                             "visibility": "private", "in_reply_to": m["reply_to"]}
                            ).encode() + b"\n" for m in messages]
        with running_dovecot() as dovecot:
            mailbox = Mailbox(dovecot, dovecot.mailbox_address())
            fill_mailbox(mailbox, messages)
            smtp = SmtpServer(mailbox.address)
            smtp.start()
            try:
                account = ChannelAccount(
                    channel="email", handle=mailbox.address, listener="email", delivery="email",
                    config={"imap_host": dovecot.host, "imap_port": dovecot.port,
                            "imap_security": "none", "smtp_host": smtp.host,
                            "smtp_port": smtp.port, "smtp_security": "none"})
                account.set_secrets({"password": PASSWORD})
                measure(Run("e-mail", len(messages)), lines, account, "private")
            finally:
                smtp.stop()

    if args.only in (None, "mastodon"):
        port = free_port()
        host = f"127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, __file__, "-n", str(args.n), "--serve",
                                   str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert server.stdout.readline().strip() == "ready", "the Mastodon server did not start"
            lines = [json.dumps({"channel": "mastodon", "external_id": f"{host}:{s['id']}",
                                 "author": s["acct"], "text": s["text"], "created_at": s["at"],
                                 "in_reply_to": f"{host}:{s['reply_to']}" if s["reply_to"]
                                 else ""}).encode() + b"\n" for s in statuses(args.n)]
            account = ChannelAccount(channel="mastodon", handle="care@example.social",
                                     listener="mastodon", delivery="mastodon",
                                     config={"api_base_url": f"http://{host}"},
                                     checkpoint={"mentions": str(FIRST_NOTIFICATION - 1)})
            account.set_secrets({"access_token": "secret-token"})
            measure(Run("Mastodon", args.n), lines, account, "public")
        finally:
            server.stdin.close()
            server.wait(timeout=30)

    if args.only in (None, "bluesky"):
        from socialdesk.connectors.bluesky.tests.servers import running_services

        with running_services(Path(os.environ["SOCIALDESK_DATA_DIR"]) / "bluesky.log") as urls:
            brand, lines = fill_bluesky(urls, args.n)
            account = ChannelAccount(channel="bluesky", handle=brand.handle, listener="bluesky",
                                     delivery="bluesky",
                                     config={"service": urls["pds"], "backfill_hours": 24})
            account.set_secrets({"app_password": brand.app_password()})
            measure(Run("Bluesky", args.n), lines, account, "public")


def fill_bluesky(urls: dict, n: int):
    """`n` posts mentioning a new brand account, by twenty customers, once the
    AppView lists every one among the brand's notifications; the brand and the
    same posts as import lines."""
    from synthetic import posts

    from socialdesk.connectors.bluesky.tests.servers import Person

    brand = Person(urls["pds"], "brand")
    customers = [Person(urls["pds"], f"c{i}") for i in range(20)]
    lines = []
    inbound = (p for p in posts(n * 2) if p.get("direction") != "outbound")
    for number, post in zip(range(n), inbound, strict=False):
        customer = customers[number % len(customers)]
        text = post["text"][:250]
        made = customer.mention(brand, text)
        lines.append(json.dumps({
            "channel": "bluesky", "external_id": made.uri, "author": customer.handle,
            "text": f"@{brand.handle} {text}",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }).encode() + b"\n")
    deadline = time.monotonic() + 120
    while listed(brand) < n:
        if time.monotonic() > deadline:
            raise SystemExit("the AppView did not list every mention within two minutes")
        time.sleep(1)
    return brand, lines


def listed(brand) -> int:
    count, cursor = 0, None
    while True:
        page = brand.client.app.bsky.notification.list_notifications(
            params={"limit": 100, "cursor": cursor})
        count += sum(1 for item in page.notifications if item.reason == "mention")
        cursor = page.cursor
        if not cursor or not page.notifications:
            return count


if __name__ == "__main__":
    main()
