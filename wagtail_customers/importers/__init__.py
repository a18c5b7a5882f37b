"""Order importers: channel files -> ``OrderData`` -> the ingestion service.

Each format maps columns by name, never by position. ``run_import`` applies a whole file or
nothing; ``FORMATS`` names the formats a site can choose from.
"""

from .base import ImportFileError, ImportReport
from .registry import FORMATS, get_format
from .runner import run_import

__all__ = ["FORMATS", "ImportFileError", "ImportReport", "get_format", "run_import"]
