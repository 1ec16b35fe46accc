from django.db import models


class ChannelAccount(models.Model):
    """A brand's own account on a channel: the place replies are posted from."""

    channel = models.CharField(max_length=32)
    handle = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    delivery = models.CharField(
        max_length=32, default="file", help_text="Connector that delivers replies"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "handle"], name="uniq_account_handle")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.handle}"


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
