"""The listing's paginator: told its total up front, and able to page on when the total is only a lower bound.

With a search or filter the listing counts nothing (``FILTERED_COUNT_LIMIT`` 0, the default) or at most
``FILTERED_COUNT_LIMIT`` + 1 rows (``CustomerListing.total``); either way past what it counted the paginator
does not know where the last page is, so its page links name none and "Next" comes from the rows read.
"""

from django.core.paginator import EmptyPage, Page
from django.utils.functional import cached_property
from wagtail.admin.paginator import WagtailPaginator

#: The deepest page number read when the last page is unknown, and the deepest the search's read weighs
#: (``index.rows_read``); a number past it reads as it: an OFFSET past 2**63 is a database error, not an empty page.
MAX_PAGE_NUMBER = 1_000_000


class ListingPage(Page):
    """A page of the listing; when the total is only a lower bound, "is there a next page" comes from the
    rows read (the view reads one more than it shows and sets ``has_more``)."""

    has_more = False

    def has_next(self):
        return super().has_next() if self.paginator.count_is_exact else self.has_more

    def start_index(self):
        if self.paginator.count_is_exact:
            return super().start_index()
        # Django's says 0 when the count is 0, which is also what "not counted" reads as.
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self):
        if self.paginator.count_is_exact:
            return super().end_index()
        return self.start_index() + len(self.object_list) - 1


class KnownCountPaginator(WagtailPaginator):
    """A paginator told the total up front (``CustomerListing.total``): no COUNT of its own.

    When the total is a lower bound (``count_is_exact`` false: "more than 10,000"), the last page is
    unknown: any page number is valid, and a page reads one row more than it shows.
    """

    def __init__(self, *args, known_count=None, count_is_exact=True, **kwargs):
        self.known_count = known_count
        self.count_is_exact = count_is_exact
        super().__init__(*args, **kwargs)

    @cached_property
    def count(self):
        if self.known_count is None and not self.count_is_exact:
            # Not counted (FILTERED_COUNT_LIMIT 0): pages are read as when the count stopped short.
            return 0
        return self.known_count if self.known_count is not None else super().count

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            # Past the counted rows is still a page when the last page is unknown (but not below 1, nor past
            # the cap: a page there is empty, and the listing shows the first page for it).
            if self.count_is_exact or int(number) < 1:
                raise
            return min(int(number), MAX_PAGE_NUMBER)

    def page(self, number):
        if self.count_is_exact:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page + 1], number, self)

    def _get_page(self, *args, **kwargs):
        return ListingPage(*args, **kwargs)

    @cached_property
    def items_count_label(self):
        # The footer says "Showing 1–25 of 2,000 customers": no second count next to the page links.
        return ""


def open_page_range(number, has_next, ellipsis):
    """Page links when the last page is unknown: the first page, the two before ``number``, ``number``,
    the next one if there is one, then an ellipsis (more pages, how many unknown)."""
    numbers = sorted({1, *range(max(1, number - 2), number + 1), *([number + 1] if has_next else [])})
    links, previous = [], 0
    for current in numbers:
        if current > previous + 1:
            links.append(ellipsis)
        links.append(current)
        previous = current
    if has_next:
        links.append(ellipsis)
    return links
