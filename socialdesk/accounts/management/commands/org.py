from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Prefetch

from socialdesk.accounts.models import Team, User
from socialdesk.accounts.orgchart import OrgError, do_import_org, export_org, parse_org
from socialdesk.triage.management.commands._arguments import read_text, user_named


class Command(BaseCommand):
    help = ("The org chart as one YAML file: calendars, teams, agents, routing rules, SLA "
            "policies and account owners (docs/ORG.md).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("import", help="create or update what the file lists "
                                  "(nothing is deleted without --replace)")
        load.add_argument("file")
        load.add_argument("--replace", action="store_true",
                          help="also delete the calendars, teams and SLA policies the file's "
                               "sections do not list, and take unlisted users off their teams "
                               "(users are never deleted)")
        load.add_argument("--dry-run", action="store_true",
                          help="check the file and report what would change; change nothing")
        load.add_argument("--by", metavar="USERNAME", help="who imports it (for the audit log)")
        export = actions.add_parser("export", help="write the org chart as YAML")
        export.add_argument("-o", "--out", help="write to this file (default: standard output)")
        actions.add_parser("show", help="the teams as a tree, with their members")

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    def do_import(self, options):
        name = options["file"]
        try:
            chart = parse_org(read_text(name))
            report = do_import_org(chart, actor=user_named(options["by"]),
                                   replace=options["replace"], dry_run=options["dry_run"])
        except OrgError as e:
            raise CommandError(f"{name}: {e}; nothing was changed") from None
        self.stdout.write(f"{name}: {'checked' if report.dry_run else 'imported'}.")
        for line in report.lines() or ["the file has no sections"]:
            self.stdout.write(f"  {line}")
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        if report.dry_run:
            self.stdout.write("Dry run: nothing was changed.")

    def do_export(self, options):
        source = export_org()
        if not options["out"]:
            self.stdout.write(source, ending="")
            return
        try:
            Path(options["out"]).write_text(source, encoding="utf-8")
        except OSError as e:
            raise CommandError(f"{options['out']}: {e.strerror}") from None
        self.stderr.write(f"Org chart written to {options['out']}")

    def do_show(self, options):
        members = Prefetch("members", queryset=User.objects.filter(is_active=True)
                           .order_by("username"))
        teams = list(Team.objects.select_related("supervisor", "calendar")
                     .prefetch_related(members).order_by("name"))
        if not teams:
            self.stdout.write("No teams yet: socialdesk org import FILE.yaml")
            return
        children: dict[int | None, list[Team]] = {}
        for team in teams:
            children.setdefault(team.parent_id, []).append(team)
        known = {team.pk for team in teams}

        def write(team: Team, depth: int):
            indent = "  " * depth
            self.stdout.write(f"{indent}{team.name} ({team.slug}): {describe(team)}")
            for user in team.members.all():
                self.stdout.write(f"{indent}  - {user.username} ({user.get_full_name() or '-'})"
                                  f", {user.role}, capacity {user.capacity}, "
                                  f"{user.availability}")
            if not team.members.all():
                self.stdout.write(f"{indent}  (no members)")
            for child in children.get(team.pk, ()):
                write(child, depth + 1)

        for team in teams:
            if team.parent_id is None or team.parent_id not in known:
                write(team, 0)
        loose = User.objects.filter(is_active=True, teams__isnull=True).order_by("username")
        names = [user.username for user in loose]
        if names:
            self.stdout.write("Not in a team: " + ", ".join(names))


def describe(team: Team) -> str:
    parts = [team.strategy,
             f"calendar {team.calendar.slug}" if team.calendar else "around the clock",
             f"supervisor {team.supervisor.username}" if team.supervisor else "no supervisor"]
    if team.reassign_after_minutes:
        parts.append(f"reassign after {team.reassign_after_minutes} min")
    return ", ".join(parts)
