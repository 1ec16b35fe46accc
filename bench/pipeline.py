"""Pipeline throughput: import → enrich → triage → route → persist, posts per second.

    python bench/pipeline.py -n 100000                 # embedded (SQLite in a temp dir)
    DATABASE_URL=postgres://... python bench/pipeline.py -n 100000 --reset

Reports the end-to-end rate and the floor: the same rows parsed and inserted
with no pipeline. Each run starts from an empty database.
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
    parser.add_argument("--reset", action="store_true",
                        help="flush the DATABASE_URL database first (it must be a scratch one)")
    args = parser.parse_args()
    if not 1 <= args.n <= 1_000_000:
        parser.error("-n must be 1 to 1,000,000")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SOCIALDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="socialdesk-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from synthetic import jsonl_bytes, posts

    from socialdesk.ingestion.actions import do_store_posts
    from socialdesk.ingestion.importer import import_records
    from socialdesk.ingestion.records import read_jsonl

    def fresh_database():
        if connection.vendor == "sqlite" and not os.environ.get("DATABASE_URL"):
            connection.close()
            Path(connection.settings_dict["NAME"]).unlink(missing_ok=True)
        elif not args.reset:
            sys.exit("refusing to write to DATABASE_URL without --reset")
        else:
            call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)

    lines = jsonl_bytes(posts(args.n))
    print(f"{args.n:,} synthetic posts, database {connection.vendor}")

    fresh_database()
    started, cpu = time.perf_counter(), time.process_time()
    batch = []
    for _, record in read_jsonl(lines, 40_000):
        batch.append(record)
        if len(batch) == 1000:
            do_store_posts(batch)
            batch = []
    if batch:
        do_store_posts(batch)
    floor, floor_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"floor (parse + insert, no pipeline): {args.n / floor:,.0f} posts/s ({floor:.1f} s; "
          f"{floor_cpu:.1f} s of CPU)")

    fresh_database()
    started, cpu = time.perf_counter(), time.process_time()
    report = import_records(read_jsonl(lines, 40_000))
    full, full_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert report.created == args.n and not report.rejected, report
    print(f"end to end (import, enrich, triage, route, case): {args.n / full:,.0f} posts/s "
          f"({full:.1f} s); {full / floor:.1f}× the floor's time")
    # The machine's speed varies from run to run; the importing process's CPU
    # time (triage helpers not counted) varies less, and shows what a change cost.
    print(f"importing process: {full_cpu:.1f} s of CPU, {full_cpu / floor_cpu:.1f}× the floor's")


if __name__ == "__main__":
    main()
