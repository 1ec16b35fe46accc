"""What a listener adds to the pipeline's cost: posts heard from dropped files
against the same posts imported.

    python bench/listening.py -n 20000

Both runs start from an empty embedded database (SQLite in a temp dir), with
the triage helper processes already started. The
import run is `import_records` over the posts' lines, as `socialdesk import`
does. The listener run drops the same lines in a folder, as files of 5,000
posts, and calls the clock's fetch (connectors.listening.do_poll_account) until
every post is stored and processed. Reports posts/s for both and the
listener's extra cost per post (goal: under 20%).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="posts (up to 1,000,000)")
    args = parser.parse_args()
    if not 1 <= args.n <= 1_000_000:
        parser.error("-n must be 1 to 1,000,000")
    os.environ["SOCIALDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="socialdesk-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from synthetic import jsonl_bytes, posts

    from socialdesk.connectors.listening import do_poll_account
    from socialdesk.connectors.models import ChannelAccount
    from socialdesk.ingestion.importer import import_records
    from socialdesk.ingestion.models import Post
    from socialdesk.ingestion.records import read_jsonl
    from socialdesk.triage.spread import wait_for_helpers

    def fresh_database():
        connection.close()
        Path(connection.settings_dict["NAME"]).unlink(missing_ok=True)
        call_command("migrate", verbosity=0)

    lines = jsonl_bytes(posts(args.n))
    print(f"{args.n:,} synthetic posts, embedded (SQLite)")
    # The triage helpers are started and warm before either run: their start is
    # no part of either path.
    wait_for_helpers(settings.TRIAGE_PROCESSES)

    fresh_database()
    started = time.perf_counter()
    report = import_records(read_jsonl(lines, 40_000))
    imported = time.perf_counter() - started
    assert report.created == args.n and not report.rejected, report

    fresh_database()
    folder = Path(tempfile.mkdtemp(prefix="socialdesk-drop-"))
    for number, start in enumerate(range(0, len(lines), 5000)):
        (folder / f"{number:06d}.jsonl").write_bytes(b"".join(lines[start:start + 5000]))
    account = ChannelAccount.objects.create(channel="x", handle="brand", listener="folder",
                                            config={"directory": str(folder)})
    started = time.perf_counter()
    while Post.objects.filter(processed_at__isnull=False).count() < args.n:
        account.refresh_from_db()
        report = do_poll_account(account)
        assert report is not None and not report.error and not report.rejected, report
    heard = time.perf_counter() - started

    print(f"imported:               {args.n / imported:,.0f} posts/s ({imported:.1f} s)")
    print(f"heard through a folder: {args.n / heard:,.0f} posts/s ({heard:.1f} s); "
          f"the listener adds {100 * (heard / imported - 1):+.0f}% per post")


if __name__ == "__main__":
    main()
