from django.core.management.base import BaseCommand, CommandError

from socialdesk.accounts.actions import do_create_api_token, do_revoke_api_token
from socialdesk.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Create an API token for a user (shown once), or revoke one by its prefix."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--revoke", metavar="PREFIX", help="revoke the token with this prefix")

    def handle(self, *args, **options):
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"no user {options['username']!r}") from None
        if options["revoke"]:
            tokens = ApiToken.objects.filter(user=user, prefix=options["revoke"])
            token = tokens.filter(revoked_at__isnull=True).first() or tokens.first()
            if token is None:
                raise CommandError(f"{user.username} has no token {options['revoke']!r}")
            if do_revoke_api_token(token):
                self.stdout.write(f"revoked {token}")
            else:
                self.stdout.write(f"{token} was revoked already")
            return
        _, token = do_create_api_token(user, options["name"])
        self.stdout.write(token)
