import json
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from socialdesk.ingestion.records import FORMATS, RecordError, guess_format, read_records
from socialdesk.triage.actions import active_policy, do_activate_policy, do_install_policy
from socialdesk.triage.management.commands._arguments import read_text, user_named
from socialdesk.triage.models import ResponsePolicy, Topic, Triage
from socialdesk.triage.policy import Policy, PolicyError, parse_policy
from socialdesk.triage.simulate import render, simulate_records, simulate_stored


class Command(BaseCommand):
    help = ("Manage the response policy: show, history, export, validate, install, activate, "
            "and simulate a change on stored posts or a file (docs/TRIAGE.md).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("show", help="the active version, who installed it and when, its YAML")
        actions.add_parser("history", help="every stored version")
        export = actions.add_parser("export", help="write a version's YAML")
        export.add_argument("-o", "--output", help="write to this file (default: standard output)")
        export.add_argument("--version", type=int, help="the version (default: the active one)")
        validate = actions.add_parser("validate", help="check a policy file without installing it")
        validate.add_argument("file")
        install = actions.add_parser("install", help="validate a policy file, store it as a new "
                                     "version and make it active")
        install.add_argument("file")
        install.add_argument("--by", metavar="USERNAME", help="who installs it (for the audit log)")
        activate = actions.add_parser("activate", help="make a stored version active again")
        activate.add_argument("version", type=int)
        activate.add_argument("--by", metavar="USERNAME", help="who activates it")
        simulate = actions.add_parser("simulate", help="compare a candidate policy with the "
                                      "active one on stored posts (or a file of posts)")
        simulate.add_argument("file", help="the candidate policy (YAML)")
        simulate.add_argument("--posts", metavar="FILE",
                              help="posts in the import schema, triaged afresh under both "
                                   "policies (default: the stored posts)")
        simulate.add_argument("--format", choices=FORMATS, help="the posts file's format")
        simulate.add_argument("--since", metavar="YYYY-MM-DD",
                              help="stored posts posted on or after this day")
        simulate.add_argument("--limit", type=int, metavar="N",
                              help="the N most recent stored posts")
        simulate.add_argument("--examples", type=int, default=5, metavar="N",
                              help="how many example posts to show (default 5)")
        simulate.add_argument("--json", action="store_true", help="one JSON object")

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    def do_show(self, options):
        policy = active_policy()
        row = ResponsePolicy.objects.select_related("created_by").get(version=policy.version)
        self.stdout.write(f"Active policy: version {row.version}, {row.name}")
        self.stdout.write(f"Installed {_when(row.created_at)} by {_who(row)}")
        self.stdout.write("")
        self._write_source(row.source)

    def do_history(self, options):
        active_policy()  # a fresh desk gets the built-in policy as version 1
        decided = dict(Triage.objects.order_by().values("policy_version")
                       .annotate(n=Count("pk")).values_list("policy_version", "n"))
        self.stdout.write(f"  {'version':>7}  {'installed':<17} {'by':<14}{'posts':>8}  name")
        for row in ResponsePolicy.objects.select_related("created_by").order_by("-version"):
            mark = "*" if row.is_active else " "
            self.stdout.write(f"{mark} {row.version:>7}  {_when(row.created_at):<17} "
                              f"{_who(row)[:13]:<14}{decided.get(row.version, 0):>8,}  "
                              f"{row.name}")
        self.stdout.write("(* active; posts: stored decisions made under the version)")

    def do_export(self, options):
        if options["version"] is None:
            version = active_policy().version
        else:
            version = options["version"]
        row = ResponsePolicy.objects.filter(version=version).first()
        if row is None:
            raise CommandError(f"there is no policy version {version} "
                               f"(stored versions: {_versions()})")
        if options["output"]:
            try:
                Path(options["output"]).write_text(row.source)
            except OSError as e:
                raise CommandError(f"{options['output']}: {e.strerror}") from None
            self.stderr.write(f"version {row.version} written to {options['output']}")
        else:
            self._write_source(row.source)

    def do_validate(self, options):
        policy = _load(options["file"])
        self.stdout.write(f"{options['file']}: valid. {policy.name}: {len(policy.rules)} rules, "
                          f"{len(policy.adjustments)} adjustments")

    def do_install(self, options):
        source = read_text(options["file"])
        actor = user_named(options["by"])
        try:
            row = do_install_policy(source, actor=actor)
        except PolicyError as e:
            raise CommandError(f"{options['file']}: {e}; the active policy is unchanged") from None
        self.stdout.write(f"Installed version {row.version} ({row.name}); it is now active.")

    def do_activate(self, options):
        actor = user_named(options["by"])
        before = active_policy().version
        try:
            row = do_activate_policy(options["version"], actor=actor)
        except PolicyError as e:
            raise CommandError(str(e)) from None
        if row.version == before:
            self.stdout.write(f"Version {row.version} ({row.name}) is already active.")
        else:
            self.stdout.write(f"Version {row.version} ({row.name}) is now active "
                              f"(was version {before}).")

    def do_simulate(self, options):
        candidate = _load(options["file"])
        current = active_policy()
        if options["examples"] < 0:
            raise CommandError("--examples must be 0 or more")
        if options["posts"]:
            if options["since"] or options["limit"] is not None:
                raise CommandError("--since and --limit select stored posts; "
                                   "they do not apply to --posts")
            report = self._simulate_file(options, current, candidate)
        else:
            if options["limit"] is not None and options["limit"] < 1:
                raise CommandError("--limit must be 1 or more")
            report = simulate_stored(current, candidate, since=_since(options["since"]),
                                     limit=options["limit"], examples=options["examples"])
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(render(report), ending="")

    def _simulate_file(self, options, current: Policy, candidate: Policy) -> dict:
        name = options["posts"]
        if not Path(name).is_file():
            raise CommandError(f"{name}: no such file")
        rejected = 0

        def records(stream):
            nonlocal rejected
            for line, item in read_records(stream, options["format"] or guess_format(name),
                                           settings.MAX_POST_CHARS):
                if isinstance(item, RecordError):
                    rejected += 1
                    self.stderr.write(f"{name}:{line}: {item}")
                    continue
                yield item

        with open(name, "rb") as stream:
            report = simulate_records(records(stream), current, candidate,
                                      examples=options["examples"])
        report["rejected"] = rejected
        return report

    def _write_source(self, source: str) -> None:
        self.stdout.write(source, ending="" if source.endswith("\n") else "\n")


def _load(name: str) -> Policy:
    source = read_text(name)
    try:
        return parse_policy(source, known_topics=set(Topic.objects.values_list("slug", flat=True)))
    except PolicyError as e:
        raise CommandError(f"{name}: {e}") from None


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: {value!r} is not a date such as 2026-11-01") from None
    return timezone.make_aware(datetime.combine(day, time.min))


def _versions() -> str:
    stored = ResponsePolicy.objects.order_by("version").values_list("version", flat=True)
    return ", ".join(map(str, stored)) or "none"


def _when(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _who(row: ResponsePolicy) -> str:
    return row.created_by.username if row.created_by else "(system)"
