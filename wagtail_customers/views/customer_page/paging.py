"""Pagination links for a paged list that shares its page with another (each has its own parameter).

Wagtail's ``pagination_nav.html`` always uses ``?p=``; the customer page has two paged tabs, and each
link must reopen its tab, so links are built here with the tab's parameter and anchor.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PageLink:
    number: object
    url: str | None
    is_current: bool = False


def _url(query, param, number, anchor):
    query = query.copy()
    query[param] = str(number)
    return f"?{query.urlencode()}#{anchor}"


def pagination(request, page, param, anchor):
    """Context for ``_pagination.html``: previous/next URLs and the (elided) page links."""
    query, paginator = request.GET, page.paginator
    links = []
    for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1):
        if number == paginator.ELLIPSIS:
            links.append(PageLink(number, None))
        else:
            links.append(PageLink(number, _url(query, param, number, anchor), number == page.number))
    return {
        "page": page,
        "links": links,
        "previous_url": _url(query, param, page.previous_page_number(), anchor) if page.has_previous() else None,
        "next_url": _url(query, param, page.next_page_number(), anchor) if page.has_next() else None,
    }
