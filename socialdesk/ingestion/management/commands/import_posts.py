from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from socialdesk.ingestion.importer import ImportReport, ProgressLine, import_records, open_input
from socialdesk.ingestion.records import FORMATS, guess_format, read_records
from socialdesk.pipeline import sweep_posts
from socialdesk.triage import classify

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Import posts from JSON Lines, CSV or twcs CSV, and run them through the pipeline."

    def add_arguments(self, parser):
        parser.add_argument("file", help="file to import, or - for standard input")
        parser.add_argument("--format", choices=FORMATS,
                            help="jsonl, csv or twcs (default: by file extension)")
        parser.add_argument("--quiet", action="store_true", help="no progress line")
        parser.add_argument("--tier", choices=classify.TIERS,
                            help="the triage tier (default: TRIAGE_TIER, else cascade); fast "
                                 "for a bulk backfill")

    def handle(self, *args, **options):
        classify.use_tier(options["tier"])
        name = options["file"]
        fmt = options["format"] or guess_format(name)
        stream = open_input(name)
        progress = None if options["quiet"] else ProgressLine(self.stderr._out)
        started = timezone.now()
        with stream:
            report = import_records(read_records(stream, fmt, settings.MAX_POST_CHARS),
                                    progress=progress)
        if progress:
            progress.done()
        if not settings.SCALE_OUT:
            # Posts an earlier, interrupted run stored but never processed (in the
            # scale-out mode the scheduler's sweeper queues those).
            earlier = sweep_posts(grace=max(timezone.now() - started, timedelta(0)))
            if earlier.handled:
                self.stdout.write(f"{earlier.handled:,} posts left unprocessed by an earlier "
                                  "run were processed too.")
        for line, reason in report.rejected[:SHOWN_ERRORS]:
            self.stderr.write(f"{name}:{line}: {reason}")
        if len(report.rejected) > SHOWN_ERRORS:
            self.stderr.write(f"… and {len(report.rejected) - SHOWN_ERRORS:,} more rejected lines")
        self.stdout.write(self.summary(report))
        problems = self.problems(report)
        for problem in problems:
            self.stderr.write(problem)
        if report.rejected:
            raise CommandError(f"{len(report.rejected):,} records were rejected", returncode=1)
        if problems:
            raise CommandError("every post is stored, but not all could be processed",
                               returncode=1)

    def summary(self, report: ImportReport) -> str:
        line = (f"{report.created:,} posts imported, {report.duplicates:,} already there, "
                f"{len(report.rejected):,} rejected.")
        if report.waiting:
            line += (f" {report.waiting:,} of those already there had never been processed: "
                     f"{'queued' if settings.SCALE_OUT else 'processed'} now.")
        if settings.SCALE_OUT:
            line += f" {report.queued:,} posts queued for the workers."
        return line

    def problems(self, report: ImportReport) -> list[str]:
        problems = []
        if report.unqueued:
            problems.append(
                f"{report.unqueued:,} posts are stored but not queued: the broker is "
                f"unreachable ({report.broker_error}). The scheduler queues them once it is "
                "back; `socialdesk process` does it at once.")
        if report.failed:
            shown = ", ".join(str(i) for i in report.failed[:10])
            problems.append(
                f"{len(report.failed):,} posts are stored but could not be processed (post ids "
                f"{shown}{', …' if len(report.failed) > 10 else ''}); the log says why. "
                "`socialdesk process --retry-failed` tries them again.")
        return problems
