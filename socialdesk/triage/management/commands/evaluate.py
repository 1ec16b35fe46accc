import json
from dataclasses import asdict
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialdesk.triage import classify
from socialdesk.triage.evaluation import (
    THROUGHPUT,
    THROUGHPUT_SPREAD,
    Row,
    default_data_dir,
    evaluate,
)

COLUMNS = ("tier", "measure", "data set", "n", "value", "note")


def cells(row: Row) -> tuple[str, ...]:
    if row.value is None:
        value = "-"
    elif row.measure in (THROUGHPUT, THROUGHPUT_SPREAD):
        value = f"{row.value:,.0f}"
    else:
        value = f"{row.value:.3f}"
    return row.tier, row.measure, row.dataset, f"{row.n:,}", value, row.note


def table(rows: list[Row]) -> str:
    lines = [COLUMNS, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    # Numbers align right so their digits line up; the note is left ragged.
    aligns = ("<", "<", "<", ">", ">", "")
    return "\n".join(
        "  ".join(f"{cell:{align}{width if align else ''}}"
                  for cell, align, width in zip(line, aligns, widths, strict=True)).rstrip()
        for line in lines
    )


class Command(BaseCommand):
    help = ("Score the trained triage on the public labelled data sets' test splits and "
            "cross-validation folds, with no database (docs/EVALUATION.md).")
    # The checks would import every app's models for nothing; this command reads files only.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--data", metavar="DIR",
                            help="the shared data folder (default: $SOCIALDESK_SHARED_DATA, "
                                 "else ../shared/data beside the repository)")
        parser.add_argument("--tier", action="append", choices=("fast", "accurate", "cascade"),
                            help="the tier(s) to score (repeatable; default: fast)")
        parser.add_argument("--json", action="store_true", help="print the rows as JSON")

    def handle(self, *args, **options):
        data_dir = Path(options["data"]) if options["data"] else default_data_dir()
        if not data_dir.is_dir():
            raise CommandError(f"{data_dir}: data folder not found; pass --data DIR or set "
                               "SOCIALDESK_SHARED_DATA")
        rows = evaluate(data_dir, options["tier"] or (classify.default_tier(),))
        if options["json"]:
            self.stdout.write(json.dumps([asdict(row) for row in rows], ensure_ascii=False,
                                         indent=2))
            return
        self.stdout.write(table(rows))
        self.stdout.write("\nEvery figure is on data the models did not train on: official test "
                          "splits, or cross-validation with the head retrained per fold.")
