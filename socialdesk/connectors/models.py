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
