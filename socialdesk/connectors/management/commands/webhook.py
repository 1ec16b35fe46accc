from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from socialdesk.connectors import webhook
from socialdesk.connectors.credentials import CredentialError
from socialdesk.connectors.models import WebhookSource


class Command(BaseCommand):
    help = ("Sources of the signed webhook (docs/CONNECTORS.md): add one (its secret is "
            "shown once), list them, rotate a secret, pause, resume or remove a source, "
            "or re-encrypt every secret under the first of CREDENTIALS_KEYS (rekey).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="add a source and print its secret, once")
        add.add_argument("slug", help="1 to 24 lower-case letters, digits and hyphens")
        add.add_argument("--name", default="", help="what the source is, for people")
        actions.add_parser("list", help="the sources, whether active, when last used")
        for verb, text in (("rotate", "give the source a new secret, printed once; the old "
                                      "one stops working at once"),
                           ("pause", "refuse the source's requests (403) until resumed"),
                           ("resume", "take the source's requests again"),
                           ("remove", "delete the source; its posts stay")):
            actions.add_parser(verb, help=text).add_argument("slug")
        actions.add_parser("rekey", help="re-encrypt every stored secret under the first "
                                         "key of CREDENTIALS_KEYS")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except (webhook.WebhookError, CredentialError) as e:
            raise CommandError(str(e)) from None

    def _source(self, slug: str) -> WebhookSource:
        source = WebhookSource.objects.filter(slug=slug).first()
        if source is None:
            raise CommandError(f"no webhook source {slug!r} (socialdesk webhook list)")
        return source

    def _add(self, slug, name, **_):
        source, secret = webhook.do_add_source(slug, name)
        self.stdout.write(f"POST {settings.SITE_URL}/api/v1/hooks/{source.slug}/posts")
        self.stdout.write(f"secret (shown once): {secret}")

    def _list(self, **_):
        sources = WebhookSource.objects.order_by("slug")
        if not sources:
            self.stdout.write("no webhook sources (socialdesk webhook add SLUG)")
        for s in sources:
            used = s.last_used_at.isoformat(timespec="seconds") if s.last_used_at else "never"
            state = "active" if s.is_active else "paused"
            self.stdout.write(f"{s.slug:<24} {state:<7} last used {used}  {s.name}")

    def _rotate(self, slug, **_):
        secret = webhook.do_rotate_secret(self._source(slug))
        self.stdout.write(f"new secret (shown once): {secret}")

    def _pause(self, slug, **_):
        webhook.do_set_active(self._source(slug), False)
        self.stdout.write(f"{slug} paused")

    def _resume(self, slug, **_):
        webhook.do_set_active(self._source(slug), True)
        self.stdout.write(f"{slug} resumed")

    def _remove(self, slug, **_):
        webhook.do_remove_source(self._source(slug))
        self.stdout.write(f"{slug} removed")

    def _rekey(self, **_):
        self.stdout.write(f"{webhook.do_rekey()} secret(s) re-encrypted under the first key")
