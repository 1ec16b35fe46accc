"""Secrets the desk keeps (channel credentials, webhook secrets), encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under the keys in
CREDENTIALS_KEYS: the first encrypts, every one decrypts. To rotate, put a new
key first, run `socialdesk webhook rekey` (every stored secret re-encrypted
under it), then drop the old key. A database copy without the keys holds no
usable secret; keys and database must be backed up apart.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialError(Exception):
    """A stored secret that none of the keys opens."""


@cache
def _keys(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as e:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEYS must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated") from e


def _fernet() -> MultiFernet:
    return _keys(tuple(settings.CREDENTIALS_KEYS))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise CredentialError("a stored secret cannot be decrypted with CREDENTIALS_KEYS "
                              "(was the key that encrypted it removed?)") from None


def reencrypt(stored: str) -> str:
    """The same secret, encrypted under the first key."""
    try:
        return _fernet().rotate(stored.encode()).decode()
    except InvalidToken:
        raise CredentialError("a stored secret cannot be decrypted with CREDENTIALS_KEYS") \
            from None
