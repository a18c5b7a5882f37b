"""Rows written once for all the tests of a module, as Django's ``TestCase.setUpTestData`` writes them for a class.

``module_data(build)`` makes a module-scoped fixture: ``build()`` runs once, inside a transaction that stays open
for the module's tests and is rolled back after its last one. Each test's ``db`` fixture runs inside it, in a
savepoint rolled back when the test ends, so every test meets the rows as ``build()`` left them. For data that
takes seconds to make (a real import, a fitted model, the permission matrix's users) and is only read, or changed
and rolled back, by the tests.

A test takes ``fresh_copy(shared, settings)``: a deep copy of what ``build()`` returned (as ``setUpTestData``'s
objects are copied), so nothing a test changes or caches on an object in memory, such as a user's permission
cache, reaches the next test; and the files ``build()`` stored, in ``MEDIA_ROOT`` and in the private storage
beside it (``storage.default_root``), copied to the same places of the test's own folder.

Once built, the rows are there for every later test of the module, those that do not ask for them too: a module
using this holds only tests that expect them, or that do not mind them. Not for modules with
``transaction=True`` tests: those flush every table.
"""

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings


@dataclass(frozen=True)
class Shared:
    value: object
    #: The folder holding ``media`` (``MEDIA_ROOT`` while building) and the private storage's folder beside it.
    files: Path


def module_data(build):
    @pytest.fixture(scope="module")
    def fixture(django_db_setup, django_db_blocker, tmp_path_factory):
        files = tmp_path_factory.mktemp("module-files")
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
        try:
            # override_settings: the private storage follows MEDIA_ROOT through Django's setting_changed.
            with override_settings(MEDIA_ROOT=str(files / "media")), django_db_blocker.unblock():
                built = build()
            yield Shared(built, files)
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    return fixture


def fresh_copy(shared, settings):
    """What ``build()`` returned, copied for one test, with its files in the test's ``MEDIA_ROOT`` and beside it."""
    shutil.copytree(shared.files, Path(settings.MEDIA_ROOT).parent, dirs_exist_ok=True)
    return copy.deepcopy(shared.value)
