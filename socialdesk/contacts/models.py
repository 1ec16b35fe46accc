from django.conf import settings
from django.db import models


class Contact(models.Model):
    """One person, across all the channels they use."""

    class Tier(models.TextChoices):
        NONE = "", "Unknown"
        CUSTOMER = "customer", "Customer"
        VIP = "vip", "VIP"

    name = models.CharField(max_length=255, blank=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True, default="")
    # The agent who owns this customer's account: an unhappy known customer is
    # routed to them (the response matrix's S2 "account owner").
    account_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="owned_contacts",
    )
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
