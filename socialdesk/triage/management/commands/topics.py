from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialdesk.triage.actions import do_import_topics
from socialdesk.triage.management.commands._arguments import read_text, user_named
from socialdesk.triage.queries import topic_specs
from socialdesk.triage.topics import TopicError, dump_topics, parse_topics


class Command(BaseCommand):
    help = ("Manage the brand's topics: import them from YAML, export them to YAML, "
            "list them (docs/TRIAGE.md, Brand topics).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("import", help="create or update topics from a YAML file "
                                  "(by slug; nothing is deleted without --replace)")
        load.add_argument("file")
        load.add_argument("--replace", action="store_true",
                          help="also delete the topics the file does not name")
        load.add_argument("--by", metavar="USERNAME", help="who imports them (for the audit log)")
        export = actions.add_parser("export", help="write every topic as YAML")
        export.add_argument("-o", "--output", help="write to this file (default: standard output)")
        actions.add_parser("list", help="one line per topic")

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    def do_import(self, options):
        name = options["file"]
        try:
            specs = parse_topics(read_text(name))
        except TopicError as e:
            raise CommandError(f"{name}: {e}; nothing was changed") from None
        try:
            done = do_import_topics(specs, replace=options["replace"],
                                    actor=user_named(options["by"]))
        except TopicError as e:
            raise CommandError(f"{name}: {e}; nothing was changed") from None
        counts = ", ".join(f"{len(done[k])} {k}" for k in ("created", "updated", "unchanged"))
        if options["replace"]:
            counts += f", {len(done['deleted'])} deleted"
        self.stdout.write(f"{name}: {len(specs)} topics; {counts}.")
        if done["deleted"]:
            self.stdout.write("Deleted: " + ", ".join(done["deleted"]))

    def do_export(self, options):
        specs = topic_specs()
        source = dump_topics(specs)
        if not options["output"]:
            self.stdout.write(source, ending="")
            return
        try:
            Path(options["output"]).write_text(source, encoding="utf-8")
        except OSError as e:
            raise CommandError(f"{options['output']}: {e.strerror}") from None
        self.stderr.write(f"{len(specs)} topics written to {options['output']}")

    def do_list(self, options):
        specs = topic_specs()
        if not specs:
            self.stdout.write("No topics yet: socialdesk topics import FILE.yaml")
            return
        self.stdout.write(f"  {'slug':<24} {'keywords':>8} {'examples':>8}  name")
        for spec in specs:
            mark = " " if spec.active else "-"
            self.stdout.write(f"{mark} {spec.slug:<24} {len(spec.keywords):>8} "
                              f"{len(spec.examples):>8}  {spec.name}")
        if not all(spec.active for spec in specs):
            self.stdout.write("(- inactive: kept, but not looked for)")
