from django.conf import settings
from django.db import models


class Case(models.Model):
    """The unit of work: one conversation with one person about one thing.

    A case spans the public thread and its private follow-up on the channel.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending on customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=2)
    decision = models.CharField(max_length=16)
    category = models.CharField(max_length=16)
    reply_mode = models.CharField(max_length=24, blank=True)
    channel = models.CharField(max_length=32)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.PROTECT,
                             related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    subject = models.CharField(max_length=200)
    routing_rule = models.CharField(max_length=64, blank=True)
    opened_at = models.DateTimeField(help_text="Arrival of the case's first inbound post")
    last_inbound_at = models.DateTimeField()
    first_response_due = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "priority", "opened_at"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["contact", "channel", "status"]),
        ]

    @property
    def ref(self) -> str:
        return f"C-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def __str__(self) -> str:
        return self.ref


class Reply(models.Model):
    """An agent's reply: the outbox row, then its delivery through a connector."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    in_reply_to = models.ForeignKey("ingestion.Post", on_delete=models.PROTECT,
                                    related_name="+")
    text = models.TextField()
    visibility = models.CharField(max_length=8)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    post = models.OneToOneField("ingestion.Post", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="reply")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "replies"

    def __str__(self) -> str:
        return f"reply {self.pk} on {self.case}"
