import json

from django.db import models

from socialdesk.connectors import credentials


class ChannelAccount(models.Model):
    """A brand's own account on a channel: the place replies are posted from and,
    with a listener, where the desk hears posts (connectors.listening)."""

    channel = models.CharField(max_length=32)
    handle = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    delivery = models.CharField(
        max_length=32, default="file", help_text="Connector that delivers replies"
    )
    listener = models.CharField(max_length=32, blank=True,
                                help_text="Connector that fetches posts; blank: none")
    # The connector's settings that are not secret (a directory, a server)...
    config = models.JSONField(default=dict, blank=True)
    # ...and those that are, as encrypted JSON (connectors.credentials).
    credentials = models.TextField(blank=True, editable=False)
    # Where the last fetch ended, in the connector's terms (a cursor, a since id, a
    # file and an offset); saved only once the posts fetched before it are stored.
    checkpoint = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    poll_seconds = models.PositiveIntegerField(default=60)
    # When to fetch next; None: not until someone acts (paused, or the connector
    # needs new credentials or its settings fixed).
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # A fetch holds the account until then: set when one starts, cleared when it
    # ends, lapsing if its process died (connectors.listening).
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The last fetch's error, as the platform gave it, and its kind
    # (connectors.base.ConnectorError); empty after a fetch that worked.
    last_error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "handle"], name="uniq_account_handle")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.handle}"

    def secrets(self) -> dict:
        """The account's credentials, decrypted ({} when none are stored)."""
        return json.loads(credentials.decrypt(self.credentials)) if self.credentials else {}

    def set_secrets(self, secrets: dict) -> None:
        """Keep these credentials, encrypted; saved with the account."""
        self.credentials = credentials.encrypt(json.dumps(secrets)) if secrets else ""


class WebhookSource(models.Model):
    """A listening tool or in-house system that sends posts to the signed webhook
    (docs/CONNECTORS.md). Its secret is stored encrypted (connectors.credentials)
    and shown once, when it is made."""

    slug = models.SlugField(max_length=24, unique=True,
                            help_text="In the webhook's URL; posts are stored with source "
                                      "'webhook:<slug>'")
    name = models.CharField(max_length=255, blank=True)
    secret = models.TextField(editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.slug
