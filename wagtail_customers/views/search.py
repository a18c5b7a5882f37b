"""The search box of the plugin's Wagtail index views (seller accounts, sharing, watchlist entries), which Wagtail
answers with an ``icontains`` on each of the view's ``search_fields``."""

from ..customer_search import MAX_TERM_LENGTH


class BoundedSearchMixin:
    """A term longer than ``MAX_TERM_LENGTH`` finds nothing. Its LIKE pattern could pass the 50,000 bytes SQLite takes
    ("LIKE or GLOB pattern too complex": a 500), and no name, user name or e-mail these views search is near that long
    (only a watchlist note may be, which nobody searches by a thousand characters of it)."""

    def search_queryset(self, queryset):
        if self.is_searching and len(self.search_query) > MAX_TERM_LENGTH:
            return queryset.none()
        return super().search_queryset(queryset)
