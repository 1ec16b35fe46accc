from django.db import models


class Contact(models.Model):
    """One person, across all the channels they use."""

    class Tier(models.TextChoices):
        NONE = "", "Unknown"
        CUSTOMER = "customer", "Customer"
        VIP = "vip", "VIP"

    name = models.CharField(max_length=255, blank=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name or f"contact {self.pk}"


class Identity(models.Model):
    """A contact's handle on one channel."""

    channel = models.CharField(max_length=32)
    handle = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    followers = models.PositiveBigIntegerField(null=True, blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "handle"], name="uniq_identity_handle")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.handle}"
