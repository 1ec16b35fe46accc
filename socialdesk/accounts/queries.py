from django.utils import timezone

from socialdesk.accounts.models import ApiToken, User


def user_for_api_token(token: str) -> User | None:
    if not token.startswith(ApiToken.PREFIX):
        return None
    row = (ApiToken.objects.select_related("user")
           .filter(digest=ApiToken.hash(token), revoked_at__isnull=True).first())
    if row is None or not row.user.is_active:
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user
