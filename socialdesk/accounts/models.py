import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models


class BusinessCalendar(models.Model):
    """Opening hours per weekday in a time zone, and holidays: SLA targets count
    only these hours (socialdesk.lib.calendar does the arithmetic)."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="UTC")
    # {"mon": ["09:00-17:00"], ...}; null means open around the clock.
    hours = models.JSONField(null=True, blank=True)
    holidays = models.JSONField(default=list, blank=True, help_text="ISO dates, local")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from socialdesk.lib.calendar import CalendarError

        try:
            self.calendar()
        except CalendarError as e:
            raise ValidationError(str(e)) from None

    def calendar(self):
        from socialdesk.lib.calendar import Calendar

        return Calendar.from_spec(self.timezone, self.hours, self.holidays)


class Team(models.Model):
    """A group of people who own a kind of work (Care, PR, Legal, ...).

    Teams nest (Care → Tier 1); the escalation chain of a team is its
    supervisor, then the parent team's, and so on up. The response matrix
    names owner teams by slug; a team that does not exist yet is created on
    first use so that no routed case is ever lost.
    """

    class Strategy(models.TextChoices):
        LEAST_LOADED = "least_loaded", "Least loaded within capacity"
        ROUND_ROBIN = "round_robin", "Round robin"
        SKILLS = "skills", "Skills and language match, then least loaded"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children")
    supervisor = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="supervised_teams")
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="teams",
                                 help_text="Business hours for SLA clocks; none: around the clock")
    strategy = models.CharField(max_length=16, choices=Strategy.choices,
                                default=Strategy.LEAST_LOADED)
    reassign_after_minutes = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Reassign a case whose assignee has not acted within this many minutes")
    # Round robin: the member who was handed the last case.
    last_assignee = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"
        ADMIN = "admin", "Admin"

    class Availability(models.TextChoices):
        ONLINE = "online", "Online"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    capacity = models.PositiveIntegerField(default=20, help_text="Open cases at once")
    availability = models.CharField(
        max_length=16, choices=Availability.choices, default=Availability.ONLINE
    )
    skills = models.JSONField(default=list, blank=True, help_text='e.g. ["billing", "refunds"]')
    languages = models.JSONField(default=list, blank=True, help_text='e.g. ["en", "pt"]')
    channels = models.JSONField(default=list, blank=True,
                                help_text="Channels this agent works; empty: all")
    working_hours = models.ForeignKey(BusinessCalendar, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="agents",
                                      help_text="When this agent works; none: any time")

    @property
    def is_supervisor_or_admin(self) -> bool:
        return self.role in (self.Role.SUPERVISOR, self.Role.ADMIN)


class ApiToken(models.Model):
    """A per-user API token. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    PREFIX = "sdk_"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginAttempt(models.Model):
    """A failed password login or API token, or a lockout one of them caused.

    Kept in the database so that every web process of the scale-out mode counts
    the same failures; rows older than the window and the lockout are pruned
    (socialdesk.accounts.throttle).
    """

    class Kind(models.TextChoices):
        LOGIN = "login", "Failed login"
        TOKEN = "token", "Failed API token"
        LOCKOUT = "lockout", "Lockout"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Lower-cased as typed; empty for tokens and for a lockout of an address.
    username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)
    # A failed login stops counting against its username once that username logs in
    # from the same address.
    counts_for_user = models.BooleanField(default=True)
    # Lockouts: refused until then. `scope` says what is locked out.
    until = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=8, blank=True,
                             help_text="lockouts: pair (a username from one address), login "
                                       "(an address's failed logins, for the usernames that "
                                       "failed from it) or token (an address's bad API tokens)")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["username", "at"]), models.Index(fields=["ip", "at"])]

    def __str__(self) -> str:
        who = self.username or self.ip or "?"
        return f"{self.get_kind_display()} {who} {self.at:%Y-%m-%d %H:%M}"
