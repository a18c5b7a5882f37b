"""Rows written once for all the tests of a module, as Django's ``TestCase.setUpTestData`` writes them for a class.

``module_data(build)`` makes a module-scoped fixture: ``build()`` runs once, inside a transaction that stays open
for the module's tests and is rolled back after its last one. Each test's ``db`` fixture runs inside it, in a
savepoint rolled back when the test ends, so every test meets the rows as ``build()`` left them. For data that
takes seconds to make (a real import, a fitted model, the permission matrix's users) and is only read, or changed
and rolled back, by the tests.

A test takes ``fresh_copy(shared, settings)``: a deep copy of what ``build()`` returned (as ``setUpTestData``'s
objects are copied), so nothing a test changes or caches on an object in memory, such as a user's permission
cache, reaches the next test; and the files ``build()`` stored, copied into the test's own ``MEDIA_ROOT``.

Not for modules with ``transaction=True`` tests: those flush every table.
"""

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction


@dataclass(frozen=True)
class Shared:
    value: object
    media_root: Path


def module_data(build):
    @pytest.fixture(scope="module")
    def fixture(django_db_setup, django_db_blocker, tmp_path_factory):
        from django.conf import settings

        saved_media_root = settings.MEDIA_ROOT
        media_root = tmp_path_factory.mktemp("module-media")
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
        try:
            settings.MEDIA_ROOT = str(media_root)
            try:
                with django_db_blocker.unblock():
                    built = build()
            finally:
                settings.MEDIA_ROOT = saved_media_root
            yield Shared(built, media_root)
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    return fixture


def fresh_copy(shared, settings):
    shutil.copytree(shared.media_root, settings.MEDIA_ROOT, dirs_exist_ok=True)
    return copy.deepcopy(shared.value)
