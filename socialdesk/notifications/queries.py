"""Reads: a person only ever reads their own notifications."""

from django.db.models import QuerySet

from socialdesk.notifications.models import Notification


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("case")


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
