"""What the triage commands share: reading a file argument and naming who acts.

The leading underscore keeps Django from taking this module for a command.
"""

from pathlib import Path

from django.core.management.base import CommandError

from socialdesk.accounts.models import User


def read_text(name: str) -> str:
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"{name}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{name}: not UTF-8 text") from None
    except OSError as e:
        raise CommandError(f"{name}: {e.strerror}") from None


def user_named(username: str | None) -> User | None:
    """The user named by --by, or None when it was not given."""
    if username is None:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--by: there is no user {username!r}")
    return user
