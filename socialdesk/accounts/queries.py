from datetime import timedelta

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from socialdesk.accounts.models import ApiToken, User

# How stale a token's "last used" may be: a busy integration must not write a row
# on every request.
LAST_USED_GRAIN = timedelta(minutes=1)


def user_for_api_token(token: str) -> User | None:
    if not token.startswith(ApiToken.PREFIX):
        return None
    row = (ApiToken.objects.select_related("user")
           .filter(digest=ApiToken.hash(token), revoked_at__isnull=True).first())
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRAIN:
        # Conditional: of many requests at once, one writes.
        (ApiToken.objects.filter(pk=row.pk)
         .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_GRAIN))
         .update(last_used_at=now))
    return row.user


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    return (ApiToken.objects.filter(user=user)
            .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id"))


def access_api_token(user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens; 404 for anyone else's (admins revoke those in the
    admin site)."""
    try:
        return ApiToken.objects.get(pk=token_id, user=user)
    except ApiToken.DoesNotExist:
        raise Http404("No such token") from None
