"""Import a file of posts in batches, reporting every rejected line."""

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from socialdesk.ingestion.records import Parsed, Record, RecordError
from socialdesk.pipeline import Ingestor


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # Duplicates an earlier run stored and never processed: processed (queued) now.
    waiting: int = 0
    # Scale-out: posts handed to the workers, and posts stored but not queued
    # because the broker was unreachable (the sweeper queues them later).
    queued: int = 0
    unqueued: int = 0
    broker_error: str = ""
    # Embedded: ids of posts stored but set aside because processing failed on them.
    failed: list[int] = field(default_factory=list)


def import_records(parsed: Iterable[Parsed], source: str = "import",
                   progress: Callable[[ImportReport], None] | None = None) -> ImportReport:
    report = ImportReport()
    batch: list[Record] = []
    ingestor = Ingestor(source)

    def flush():
        result = ingestor.add(batch)
        report.created += len(result.created)
        report.duplicates += result.duplicates
        report.waiting += len(result.waiting)
        batch.clear()
        if progress:
            progress(report)

    try:
        for line, item in parsed:
            report.read += 1
            if isinstance(item, RecordError):
                report.rejected.append((line, str(item)))
                continue
            batch.append(item)
            if len(batch) >= settings.PIPELINE_BATCH_SIZE:
                flush()
        if batch:
            flush()
    finally:
        # Whatever stopped the import, the batches already stored are processed.
        ingestor.close()
        report.queued, report.unqueued = ingestor.queued, len(ingestor.unqueued)
        report.broker_error, report.failed = ingestor.broker_error, ingestor.failed
    return report


class ProgressLine:
    """A one-line progress report on stderr, at most a few times a second."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.started, self.last = stream, time.monotonic(), 0.0

    def __call__(self, report: ImportReport) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        rate = report.read / max(now - self.started, 1e-6)
        self.stream.write(f"\r{report.read:,} read, {report.created:,} new, "
                          f"{report.duplicates:,} already there, {len(report.rejected):,} rejected "
                          f"({rate:,.0f} posts/s)")
        self.stream.flush()

    def done(self) -> None:
        if self.last:
            self.stream.write("\n")


def open_input(name: str):
    """The named file (or standard input for -) opened for reading bytes, or
    CommandError saying why it cannot be."""
    if name == "-":
        return sys.stdin.buffer
    path = Path(name)
    if path.is_dir():
        raise CommandError(f"{name}: is a directory; give a file of posts")
    if not path.exists():
        raise CommandError(f"{name}: no such file")
    try:
        return path.open("rb")
    except OSError as e:
        raise CommandError(f"{name}: cannot be read ({e.strerror})") from None
