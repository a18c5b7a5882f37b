"""The private storage of import uploads and export files: never under ``MEDIA_ROOT``, never with a URL.

Uploaded order files and export files hold buyers' personal data. Kept in the site's default (media)
storage, any file there is one guessable URL away from anyone (``/media/...`` is often served without a
login). So they go to a storage of their own:

* the ``STORAGES`` alias named by ``WAGTAIL_CUSTOMERS["PRIVATE_STORAGE"]`` (``"wagtail_customers"``) when
  the site defines it (a private bucket, say);
* otherwise a ``PrivateFileSystemStorage`` (no URL at all) in ``PRIVATE_STORAGE_ROOT``, by default the
  folder ``wagtail_customers_private`` beside ``MEDIA_ROOT`` (outside it).

Every file gets a random name, and export files are served only by the checked download view.
"""

import os
import secrets
from pathlib import Path, PurePath

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

from .conf import get_setting

DEFAULT_FOLDER_NAME = "wagtail_customers_private"
IMPORTS_FOLDER = "wagtail_customers/imports"
#: Suffixes an uploaded file keeps (the importers read the format from them); anything else is dropped.
IMPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder on disk whose files have no URL: ``url()`` raises, ``base_url`` is ``None``."""

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Files of wagtail-customers are private: they are served by the plugin's views only.")


def _path_or_none(value):
    return value if isinstance(value, str | os.PathLike) else None


def storage_alias():
    """``PRIVATE_STORAGE``; ``ImproperlyConfigured`` when it is not a string (system check E009): a default folder
    instead of the storage the site meant would keep the files on the disk of whichever server wrote them."""
    alias = get_setting("PRIVATE_STORAGE")
    if not isinstance(alias, str):
        raise ImproperlyConfigured(
            "WAGTAIL_CUSTOMERS['PRIVATE_STORAGE'] must be the name of a STORAGES alias "
            "(manage.py check: wagtail_customers.E009)."
        )
    return alias


def default_root():
    """``PRIVATE_STORAGE_ROOT``, else a folder beside ``MEDIA_ROOT``, else in ``BASE_DIR``; ``None`` if none is set.

    A ``PRIVATE_STORAGE_ROOT`` that is set but not a path raises ``ImproperlyConfigured`` (system check E009)."""
    root = get_setting("PRIVATE_STORAGE_ROOT")
    if root is not None and _path_or_none(root) is None:
        raise ImproperlyConfigured(
            "WAGTAIL_CUSTOMERS['PRIVATE_STORAGE_ROOT'] must be a folder's path "
            "(manage.py check: wagtail_customers.E009)."
        )
    if root:
        return Path(root)
    media_root = _path_or_none(settings.MEDIA_ROOT)
    if media_root:
        return Path(media_root).resolve().parent / DEFAULT_FOLDER_NAME
    base_dir = _path_or_none(getattr(settings, "BASE_DIR", None))
    return Path(base_dir) / DEFAULT_FOLDER_NAME if base_dir else None


def uses_own_alias():
    return storage_alias() in settings.STORAGES


def build_private_storage():
    """The private storage; raises ``ImproperlyConfigured`` when there is no folder for it (system check E010)."""
    if uses_own_alias():
        return storages[storage_alias()]
    root = default_root()
    if root is None:
        raise ImproperlyConfigured(
            "wagtail-customers needs a private folder for import and export files: set MEDIA_ROOT, or "
            "WAGTAIL_CUSTOMERS['PRIVATE_STORAGE_ROOT'], or a STORAGES alias named by PRIVATE_STORAGE."
        )
    return PrivateFileSystemStorage(location=root)


class MissingPrivateStorage(Storage):
    """Stands in for the private storage while the site's settings give it none (no folder, or a setting of the
    wrong type): the models (whose file fields ask for the storage when they are defined) still import,
    ``manage.py check`` reports E001, E009 or E010, and any use of a file raises the reason."""

    def __init__(self, reason):
        self.reason = reason

    def _missing(self, *args, **kwargs):
        raise ImproperlyConfigured(self.reason)

    _open = _save = delete = exists = listdir = size = url = path = _missing
    get_accessed_time = get_created_time = get_modified_time = _missing


class PrivateStorage(LazyObject):
    """Resolved on first use and again whenever the settings it depends on change (tests override them)."""

    def _setup(self):
        try:
            self._wrapped = build_private_storage()
        except ImproperlyConfigured as error:
            self._wrapped = MissingPrivateStorage(str(error))


private_storage = PrivateStorage()


def get_private_storage():
    """The ``storage`` callable of the plugin's file fields (migrations refer to it by this name)."""
    return private_storage


@receiver(setting_changed)
def _reset_private_storage(*, setting, **kwargs):
    if setting in ("MEDIA_ROOT", "STORAGES", "WAGTAIL_CUSTOMERS", "BASE_DIR"):
        private_storage._wrapped = empty


def random_name(folder, suffix=""):
    """``folder/<32 random hex digits><suffix>``: nothing in the name is guessable or says whose it is."""
    return f"{folder.strip('/')}/{secrets.token_hex(16)}{suffix}"


def import_upload_to(instance, filename):
    """``upload_to`` of ``ImportJob.file``: a random name, keeping only a known suffix."""
    suffix = PurePath(filename or "").suffix.lower()
    return random_name(IMPORTS_FOLDER, suffix if suffix in IMPORT_SUFFIXES else "")
