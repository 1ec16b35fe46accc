import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


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
    # From the opening post's triage: what the skills strategy matches agents on.
    lang = models.CharField(max_length=16, blank=True)
    topics = models.JSONField(default=list, blank=True)
    # Agents' own labels ("refund", "spam", ...), lower case, set from the case
    # page or by bulk action.
    tags = models.JSONField(default=list, blank=True)
    # The composite indexes below begin with these keys and serve their lookups: a
    # single-column index of its own would be one more to write per case.
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="cases",
                                db_index=False)
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.PROTECT,
                             related_name="cases", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_cases", db_index=False,
    )
    subject = models.CharField(max_length=200)
    routing_rule = models.CharField(max_length=64, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    # When the case is handed to someone else if its assignee has not acted
    # (the team's reassign_after_minutes); cleared by any agent action.
    reassign_at = models.DateTimeField(null=True, blank=True)
    # The reply mode's steps: [{"step": "acknowledge_publicly", "done_at": iso|None,
    # "via": "public reply"}]; see cases.steps.
    steps = models.JSONField(default=list, blank=True)
    # Replies wait for approval when the policy says so: "supervisor" or a team slug.
    approval_by = models.CharField(max_length=64, blank=True)
    approval_reason = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(help_text="Arrival of the case's first inbound post")
    last_inbound_at = models.DateTimeField()
    first_response_due = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    # The earliest due time of the case's running SLA clocks (none when no clock
    # runs): what the inbox sorts on and counts down to. Kept by cases.sla.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "priority", "opened_at"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["contact", "channel", "status"]),
            models.Index(fields=["reassign_at"]),
            models.Index(fields=["status", "sla_due_at"]),
            # The inbox: its default order, walked until a page is full; the arms of
            # "visible to" (team, assignee, approving team) each on an index, so that
            # the planner can OR them; the poll's "changed since"; newest first.
            models.Index(fields=["sla_due_at", "priority", "opened_at", "id"],
                         name="case_inbox_order"),
            models.Index(fields=["approval_by"], condition=~models.Q(approval_by=""),
                         name="case_approval_by"),
            models.Index(fields=["updated_at"], name="case_updated_at"),
            models.Index(fields=["opened_at"], name="case_opened_at"),
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
    """An agent's reply: approval where the policy asks for it, the outbox row,
    then its delivery through a connector."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        RETURNED = "returned", "Sent back"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not delivered"
        # The sender stopped between sending and recording, and the connector
        # cannot look the reply up: a person checks the channel and decides.
        UNCERTAIN = "uncertain", "Delivery uncertain"

    # A reply in one of these holds its post: a second one to the same post,
    # in the same visibility, is refused (two agents answering at once).
    LIVE_STATUSES = (Status.AWAITING_APPROVAL, Status.QUEUED, Status.SENDING, Status.SENT,
                     Status.UNCERTAIN)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    in_reply_to = models.ForeignKey("ingestion.Post", on_delete=models.PROTECT,
                                    related_name="+")
    text = models.TextField()
    visibility = models.CharField(max_length=8)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # When the reply entered its status: the outbox sweeper re-queues a reply
    # queued this long ago, and recovers one left "sending" by a worker that died.
    status_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Sent with every delivery attempt: a platform that takes an idempotency key
    # posts the reply once however often it is sent, and a connector can look
    # the reply up by it after a crash.
    delivery_key = models.UUIDField(default=uuid.uuid4, editable=False)
    post = models.OneToOneField("ingestion.Post", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="reply")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    approval_by = models.CharField(max_length=64, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    # Guideline warnings the author read and confirmed before sending.
    confirmed_warnings = models.JSONField(default=list, blank=True)
    # The follow-up to schedule once the reply is sent ({"hours", "on_expiry"});
    # kept here while the reply waits for approval.
    follow_up = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "replies"
        indexes = [
            # The inbox's "awaiting approval": by approving team, then the case.
            models.Index(fields=["approval_by", "case"],
                         condition=models.Q(status="awaiting_approval"),
                         name="reply_awaiting_approval"),
            # The outbox sweeper's look-up.
            models.Index(fields=["status_at"], condition=models.Q(status__in=["queued", "sending"]),
                         name="reply_in_outbox"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["in_reply_to", "visibility"],
                condition=models.Q(status__in=["awaiting_approval", "queued", "sending",
                                               "sent", "uncertain"]),
                name="one_live_reply_per_post",
            ),
        ]

    def __str__(self) -> str:
        return f"reply {self.pk} on {self.case}"


class Moderation(models.Model):
    """Hiding or showing again a person's comment, or deleting the brand's own reply,
    on the platform: an outbox item delivered like a reply (cases.moderation)."""

    class Action(models.TextChoices):
        HIDE = "hide", "Hide"
        UNHIDE = "unhide", "Show again"
        DELETE = "delete", "Delete"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Not done"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="moderations")
    post = models.ForeignKey("ingestion.Post", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    status_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    key = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        indexes = [models.Index(fields=["status_at"],
                                condition=models.Q(status__in=["queued", "sending"]),
                                name="moderation_in_outbox")]
        constraints = [
            # One at a time per post: hide, then unhide, never both in flight.
            models.UniqueConstraint(fields=["post"], condition=models.Q(
                status__in=["queued", "sending"]), name="one_pending_moderation_per_post"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.post_id} on {self.case}"


class Note(models.Model):
    """An internal note on a case, or a step taken off the channel (a call, an e-mail)."""

    class Kind(models.TextChoices):
        NOTE = "note", "Internal note"
        PHONE = "phone", "Phone call"
        EMAIL = "email", "E-mail"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"


class FollowUp(models.Model):
    """What should happen next, by when: the customer's expected action, or our check-back."""

    class Kind(models.TextChoices):
        EXPECT_CUSTOMER = "expect_customer", "Waiting for the customer"
        CHECK_BACK = "check_back", "Check back with the customer"

    class OnExpiry(models.TextChoices):
        REMIND = "remind", "Remind the assignee"
        REOPEN = "reopen", "Re-open the case"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        MET = "met", "Met"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.CharField(max_length=200, help_text='e.g. "DM us your order number"')
    due_at = models.DateTimeField()
    on_expiry = models.CharField(max_length=8, choices=OnExpiry.choices,
                                 default=OnExpiry.REMIND)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.action} (by {self.due_at:%Y-%m-%d %H:%M}, {self.status})"


class SlaPolicy(models.Model):
    """Targets for cases of some priorities, channels and teams, in business time.

    Read in order; the first policy that matches a case applies. Empty lists
    match everything. A case no policy matches keeps the response matrix's
    first-response target and has no next-response or resolution target.
    """

    class Action(models.TextChoices):
        RAISE_PRIORITY = "raise_priority", "Raise the priority one step"
        NOTIFY_SUPERVISOR = "notify_supervisor", "Notify the team's supervisor"
        REASSIGN = "reassign", "Reassign within the team"
        ESCALATE = "escalate", "Move to the next team up the chain"

    position = models.PositiveIntegerField(default=0)
    name = models.SlugField(max_length=64, unique=True)
    priorities = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    teams = models.JSONField(default=list, blank=True, help_text="Team slugs")
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    warn_at_percent = models.PositiveSmallIntegerField(default=75)
    breach_actions = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class SlaClock(models.Model):
    """One running target on a case: its due and warning times in wall-clock
    time, worked out from business time when it starts or resumes, so that the
    clock that watches 100,000 cases compares timestamps and nothing else."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        NEXT_RESPONSE = "next_response", "Next response"
        RESOLUTION = "resolution", "Resolution"
        REPLY_WINDOW = "reply_window", "Platform reply window"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused (pending on customer)"
        HIT = "hit", "Hit"
        MISSED = "missed", "Missed"
        CLOSED = "closed", "Closed"  # a reply window that passed or was answered

    # Indexed by (case, kind) below.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks",
                             db_index=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    policy = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField(null=True, blank=True)
    # Business seconds left when the clock was paused.
    remaining_seconds = models.FloatField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "warn_at"]),
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["case", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}: {self.state}"


class CasePresence(models.Model):
    """Who has a case open, and whether they are writing a reply: collision warnings."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="presence")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    drafting = models.BooleanField(default=False)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"],
                                               name="uniq_case_presence")]

    def __str__(self) -> str:
        return f"user {self.user_id} on case {self.case_id}"


class SavedReply(models.Model):
    """A canned answer agents insert in the composer. Variables in braces
    ({first_name}, {agent_name}, {case_ref}) are filled from the case; an empty
    channel or language means any."""

    name = models.CharField(max_length=100)
    text = models.TextField()
    channel = models.CharField(max_length=32, blank=True)
    lang = models.CharField(max_length=16, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="saved_replies")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "saved replies"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
