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
    email = models.EmailField(max_length=254, blank=True, default="")
    # The person's id in the customer database (`socialdesk contacts import`).
    customer_id = models.CharField(max_length=64, blank=True, default="")
    # Lower-case labels: the computed ones (contacts.tags.COMPUTED) and agents' own.
    tags = models.JSONField(default=list, blank=True)
    # Set when this contact was merged into another; the Merge row says what moved.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_contacts")
    # Set by a data-subject erasure (contacts.privacy): the row stays, emptied,
    # so that the cases and posts that point at it keep their shape.
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer_id"], condition=~models.Q(customer_id=""),
                                    name="uniq_contact_customer_id"),
        ]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.name or f"contact {self.pk}"


class Identity(models.Model):
    """A contact's handle on one channel."""

    channel = models.CharField(max_length=32)
    handle = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    followers = models.PositiveBigIntegerField(null=True, blank=True)
    email = models.EmailField(max_length=254, blank=True, default="")
    photo_url = models.URLField(max_length=2000, blank=True, default="")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "handle"], name="uniq_identity_handle")
        ]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.channel}:{self.handle}"


class ContactNote(models.Model):
    """What an agent wants colleagues to know about the person (not about one case)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk} on contact {self.contact_id}"


class Merge(models.Model):
    """One contact merged into another, with exactly what moved, so that it can be undone.

    `moved`: {"identities": [ids], "cases": [ids], "notes": [ids]};
    `source_fields`: the merged contact's fields before the merge;
    `target_changes`: {field: [before, after]} for the kept contact's fields the merge filled.
    """

    target = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="merges_in")
    source = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="merges_out")
    moved = models.JSONField(default=dict)
    source_fields = models.JSONField(default=dict)
    target_changes = models.JSONField(default=dict)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField()
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"contact {self.source_id} into {self.target_id}"


class MergeSuggestion(models.Model):
    """Two contacts that may be one person, and why the desk thinks so.

    The pair is stored with contact_a < contact_b; one row per pair, so a pair
    an agent rejected is never proposed again.
    """

    class Reason(models.TextChoices):
        EMAIL = "email", "Same e-mail address"
        NAME_PHOTO = "name_photo", "Same name and photo"
        CROSS_POST = "cross_post", "Same text posted on two channels"
        # A pair an agent merged by hand and later unmerged: two people.
        MANUAL = "manual", "Merged by hand"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted (merged)"
        REJECTED = "rejected", "Rejected"

    contact_a = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    contact_b = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # Per reason found: what matched ({"email": {"email": ...}, "cross_post": {...}}).
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contact_a", "contact_b"], name="uniq_suggested_pair"),
            models.CheckConstraint(condition=models.Q(contact_a__lt=models.F("contact_b")),
                                   name="suggested_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"contacts {self.contact_a_id} and {self.contact_b_id}: {self.reason}"


class PostFingerprint(models.Model):
    """The digest of an inbound post's normalised text: finds the same text posted
    on two channels with one indexed lookup instead of reading every post."""

    post = models.OneToOneField("ingestion.Post", primary_key=True, on_delete=models.CASCADE,
                                related_name="+")
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=32)
    digest = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.post_id}: {self.digest[:12]}"
