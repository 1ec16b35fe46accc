import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialdesk.triage.classify.datasets import default_data_dir
from socialdesk.triage.classify.train import ARTIFACTS, feedback_pairs, train_fast


class Command(BaseCommand):
    help = ("Train the triage models from the public labelled data (seeded and reproducible), "
            "optionally with agents' corrections; writes the artifacts the desk loads.")

    def add_arguments(self, parser):
        parser.add_argument("--data", metavar="DIR",
                            help="the shared data folder (default: $SOCIALDESK_SHARED_DATA, "
                                 "else ../shared/data beside the repository)")
        parser.add_argument("--tier", choices=("fast", "accurate", "all"), default="fast")
        parser.add_argument("--with-feedback", action="store_true",
                            help="add agents' corrections stored in the database as labels")
        parser.add_argument("--device", metavar="NAME",
                            help="accurate tier: where to fine-tune, e.g. cuda or cpu "
                                 "(default: cuda when there is one)")
        parser.add_argument("--no-folds", action="store_true",
                            help="accurate tier: skip the five cross-validation runs that "
                                 "give the complaint and spam figures")
        parser.add_argument("--out", metavar="DIR",
                            help="where to write the artifacts (default: inside the package, "
                                 "where the desk loads them)")

    def handle(self, *args, **options):
        data_dir = Path(options["data"]) if options["data"] else default_data_dir()
        if not data_dir.is_dir():
            raise CommandError(f"{data_dir}: data folder not found; pass --data DIR or set "
                               "SOCIALDESK_SHARED_DATA")
        out = Path(options["out"]) if options["out"] else ARTIFACTS
        feedback = self._feedback() if options["with_feedback"] else {}
        log = lambda line: self.stderr.write(line)  # noqa: E731
        try:
            if options["tier"] in ("fast", "all"):
                meta = train_fast(data_dir, out, feedback, log=log)
                self.stdout.write(f"fast tier {meta['version']}: {out / 'fast-v1.npz'}")
            if options["tier"] in ("accurate", "all"):
                self._train_accurate(data_dir, out, feedback, log, options)
        except FileNotFoundError as e:
            raise CommandError(f"{e.filename}: missing from the data folder") from None

    def _feedback(self) -> dict:
        from socialdesk.triage.models import Correction

        rows = (Correction.objects.exclude(post__text="").order_by("post_id", "created_at", "id")
                .values_list("post_id", "field", "post__text", "value", "previous"))
        latest = {(post, field): (text, field, value, previous)
                  for post, field, text, value, previous in rows}
        pairs = feedback_pairs(list(latest.values()))
        counts = ", ".join(f"{head} {len(p)}" for head, p in pairs.items()) or "none"
        self.stderr.write(f"agents' corrections used as labels: {counts}")
        return pairs

    def _train_accurate(self, data_dir, out, feedback, log, options) -> None:
        from socialdesk.triage.classify.finetune import train_accurate

        try:
            meta = train_accurate(data_dir, out, device=options["device"],
                                  folds=not options["no_folds"], feedback=feedback, log=log)
        except ImportError as e:
            raise CommandError(f"fine-tuning the accurate tier needs its extra: pip install "
                               f"'socialdesk[train]' ({e})") from None
        except ValueError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"accurate tier {meta['version']}: {out}")
        sys.stdout.flush()
