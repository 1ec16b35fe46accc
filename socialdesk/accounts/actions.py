from django.db import transaction
from django.utils import timezone

from socialdesk.accounts.models import ApiToken, Team, User


def do_ensure_teams(slugs: set[str]) -> dict[str, Team]:
    """Teams by slug; a slug the policy names but nobody created yet is created,
    so that a routed case always has a queue to wait in."""
    teams = {t.slug: t for t in Team.objects.filter(slug__in=slugs)}
    missing = [s for s in sorted(slugs) if s not in teams]
    if missing:
        Team.objects.bulk_create(
            [Team(slug=s, name=s.replace("-", " ").replace("_", " ").title()) for s in missing],
            ignore_conflicts=True,
        )
        teams = {t.slug: t for t in Team.objects.filter(slug__in=slugs)}
    return teams


def do_create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token; the plain text is returned once and never stored."""
    token = ApiToken.generate()
    row = ApiToken.objects.create(user=user, name=name, prefix=token[:8],
                                  digest=ApiToken.hash(token))
    return row, token


def do_revoke_api_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def do_set_password(user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
