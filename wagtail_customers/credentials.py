"""Channel credentials at rest: encrypted with Fernet (``cryptography``), keys from the settings.

``WAGTAIL_CUSTOMERS["CREDENTIALS_KEYS"]`` is a list of Fernet keys (``Fernet.generate_key()``): the
first encrypts, every one decrypts, so a key is rotated by putting the new one first, running
``manage.py customers_rotate_credentials`` (re-encrypts with the first), then dropping the old one.
Decrypted credentials exist only in memory while a sync or a test of the connection runs: they are
never rendered back in a form, logged or put in an error message.
"""

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from .conf import get_setting


class CredentialsUnreadable(Exception):
    """The stored credentials do not decrypt with any configured key (a key was dropped too early)."""


def configured_keys():
    keys = get_setting("CREDENTIALS_KEYS") or ()
    if isinstance(keys, str | bytes):
        keys = [keys]
    return list(keys)


def _fernet():
    keys = configured_keys()
    if not keys:
        raise ImproperlyConfigured(
            "WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS'] is not set: channel credentials cannot be stored "
            "(docs/howto/connect-a-store.md, 'Credentials at rest')."
        )
    return MultiFernet([Fernet(key) for key in keys])


def encryption_available():
    """True when a valid key is configured (the connection form says so otherwise)."""
    try:
        _fernet()
    except (ImproperlyConfigured, ValueError, TypeError):
        return False
    return True


def encrypt_credentials(credentials):
    """A dict of strings as a Fernet token (text)."""
    return _fernet().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt_credentials(token):
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(
            "The stored credentials do not decrypt with any key in WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS']."
        ) from None


def rotate_credentials(token):
    """The same credentials encrypted with the first key; ``CredentialsUnreadable`` when no key decrypts them."""
    fernet = _fernet()
    try:
        return fernet.rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable(
            "The stored credentials do not decrypt with any key in WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS']."
        ) from None
