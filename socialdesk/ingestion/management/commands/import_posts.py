import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from socialdesk.ingestion.importer import ProgressLine, import_records
from socialdesk.ingestion.records import FORMATS, guess_format, read_records
from socialdesk.pipeline import process_backlog

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Import posts from JSON Lines, CSV or twcs CSV, and run them through the pipeline."

    def add_arguments(self, parser):
        parser.add_argument("file", help="file to import, or - for standard input")
        parser.add_argument("--format", choices=FORMATS,
                            help="jsonl, csv or twcs (default: by file extension)")
        parser.add_argument("--quiet", action="store_true", help="no progress line")

    def handle(self, *args, **options):
        name = options["file"]
        fmt = options["format"] or guess_format(name)
        if name == "-":
            stream = sys.stdin.buffer
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file")
            stream = path.open("rb")
        progress = None if options["quiet"] else ProgressLine(self.stderr._out)
        with stream:
            report = import_records(read_records(stream, fmt, settings.MAX_POST_CHARS),
                                    progress=progress)
        if progress:
            progress.done()
        # Posts an earlier, interrupted run stored but never processed.
        left_over = process_backlog()
        if left_over:
            self.stdout.write(f"{left_over:,} posts left unprocessed by an earlier run were "
                              "processed too.")
        for line, reason in report.rejected[:SHOWN_ERRORS]:
            self.stderr.write(f"{name}:{line}: {reason}")
        if len(report.rejected) > SHOWN_ERRORS:
            self.stderr.write(f"… and {len(report.rejected) - SHOWN_ERRORS:,} more rejected lines")
        self.stdout.write(f"{report.created:,} posts imported, {report.duplicates:,} already "
                          f"there, {len(report.rejected):,} rejected.")
        if report.rejected:
            raise CommandError(f"{len(report.rejected):,} records were rejected", returncode=1)
