from django.db import transaction
from django.utils import timezone

from socialdesk.accounts.models import ApiToken, Team, User
from socialdesk.audit.actions import do_record


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


@transaction.atomic
def do_create_api_token(user: User, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token; the plain text is returned once and never stored. `actor` None:
    the command line."""
    token = ApiToken.generate()
    row = ApiToken.objects.create(user=user, name=name, prefix=token[:8],
                                  digest=ApiToken.hash(token))
    do_record("api_token.created", actor=actor, owner=user.username, token=row.pk,
              name=name, prefix=row.prefix)
    return row, token


@transaction.atomic
def do_revoke_api_token(token: ApiToken, actor: User | None = None) -> bool:
    """Revoke the token at once (every process reads it from the database); False when
    it was revoked already."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
        do_record("api_token.revoked", actor=actor, owner=token.user.username, token=token.pk,
                  name=token.name, prefix=token.prefix)
    return bool(revoked)


@transaction.atomic
def do_set_password(user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])


@transaction.atomic
def do_change_password(user: User, password: str) -> None:
    """The user's own change of password (the caller checked the old one and the
    validators); their other sessions end, as Django's session hash changes."""
    do_set_password(user, password)
    do_record("account.password_changed", actor=user, username=user.username)
