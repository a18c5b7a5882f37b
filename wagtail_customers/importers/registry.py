"""The import formats a site can choose from, by name."""

from django.utils.translation import gettext as _

from .base import ImportFileError
from .generic import GenericFormat

FORMATS = {fmt.name: fmt for fmt in (GenericFormat,)}


def get_format(name):
    try:
        return FORMATS[name]()
    except KeyError:
        raise ImportFileError(
            _("Unknown import format '%(name)s' (known: %(known)s).") % {"name": name, "known": ", ".join(FORMATS)}
        ) from None
