import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from socialdesk.ingestion.importer import open_input
from socialdesk.ingestion.records import FORMATS, RecordError, guess_format, read_records
from socialdesk.pipeline import contract, decide, record_input
from socialdesk.routing.rules import default_rules
from socialdesk.triage import classify
from socialdesk.triage.policy import PolicyError, default_policy, parse_policy
from socialdesk.triage.topics import TopicError, TopicMatcher, parse_topics

BATCH = 1000


class Command(BaseCommand):
    help = ("Triage posts from a file with no server or database: one JSON line per post, "
            "in input order (docs/TRIAGE.md).")

    def add_arguments(self, parser):
        parser.add_argument("file", help="posts in the import schema, or - for standard input")
        parser.add_argument("--format", choices=FORMATS)
        parser.add_argument("--policy", help="a response policy YAML (default: the built-in one)")
        parser.add_argument("--topics", metavar="FILE.yaml",
                            help="the brand's topics (the shape `socialdesk topics export` "
                                 "writes); each output line then also has 'topics'")
        parser.add_argument("-o", "--output", help="write here instead of standard output")
        parser.add_argument("--tier", choices=classify.TIERS,
                            help="the triage tier (default: TRIAGE_TIER, else cascade); fast "
                                 "for a bulk backfill")

    def handle(self, *args, **options):
        classify.use_tier(options["tier"])
        try:
            policy = (parse_policy(Path(options["policy"]).read_text())
                      if options["policy"] else default_policy())
        except (OSError, PolicyError) as e:
            raise CommandError(f"policy: {e}") from None
        topics = None
        if options["topics"]:
            where = f"topics: {options['topics']}"
            try:
                topics = TopicMatcher(parse_topics(Path(options["topics"]).read_text("utf-8")))
            except OSError as e:
                raise CommandError(f"{where}: {e.strerror}") from None
            except UnicodeDecodeError:
                raise CommandError(f"{where}: not UTF-8 text") from None
            except TopicError as e:
                raise CommandError(f"{where}: {e}") from None
        rules = default_rules()
        name = options["file"]
        stream = open_input(name)
        out = open(options["output"], "w") if options["output"] else self.stdout._out  # noqa: SIM115
        rejected = 0
        with stream:
            batch = []
            for line, item in read_records(stream, options["format"] or guess_format(name),
                                           settings.MAX_POST_CHARS):
                if isinstance(item, RecordError):
                    rejected += 1
                    self.stderr.write(f"{name}:{line}: {item}")
                    continue
                batch.append(record_input(item))
                if len(batch) >= BATCH:
                    self._write(out, decide(batch, policy, rules, topics), topics)
                    batch = []
            self._write(out, decide(batch, policy, rules, topics), topics)
        if options["output"]:
            out.close()
        if rejected:
            raise CommandError(f"{rejected:,} records were rejected", returncode=1)

    def _write(self, out, decided, topics: TopicMatcher | None) -> None:
        for result, route in decided:
            line = contract(result, route)
            if topics is not None:  # only when asked: the contract's keys stay as documented
                line["topics"] = result.topics
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
