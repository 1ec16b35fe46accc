import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from socialdesk.accounts.actions import do_ensure_teams
from socialdesk.accounts.models import User


class Command(BaseCommand):
    help = "Create a user (agent, supervisor or admin); prints a random password once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=User.Role.values, default=User.Role.AGENT)
        parser.add_argument("--team", action="append", default=[], help="team slug (repeatable)")
        parser.add_argument("--email", default="")

    def handle(self, *args, **options):
        if User.objects.filter(username=options["username"]).exists():
            raise CommandError(f"user {options['username']!r} already exists")
        password = secrets.token_urlsafe(12)
        user = User(username=options["username"], email=options["email"], role=options["role"])
        try:
            validate_password(password, user)
        except ValidationError as e:
            raise CommandError("; ".join(e.messages)) from None
        user.is_staff = user.is_superuser = options["role"] == User.Role.ADMIN
        user.set_password(password)
        user.save()
        if options["team"]:
            user.teams.set(do_ensure_teams(set(options["team"])).values())
        self.stdout.write(f"{user.username} ({user.role}) password: {password}")
