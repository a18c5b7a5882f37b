"""Every branch on the Wagtail version lives here, so the rest of the code reads as one version."""

from wagtail import VERSION as WAGTAIL_VERSION

WAGTAIL_8_OR_LATER = WAGTAIL_VERSION >= (8, 0)
