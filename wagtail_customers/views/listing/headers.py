"""The listing's column headers built in Python: Wagtail's ``tables/column_header.html`` (the same on 7.0 and 8)
rendered for each column on every listing page cost about 40 us a column. tests/test_listing_cells.py compares
each header with the template's, in each sort state; the sorted column's also says its order (``aria-sort``)."""

import copy

from django.utils.safestring import mark_safe
from wagtail.admin.ui.tables import BaseColumn

from . import cells

COLUMN_HEADER_TEMPLATE = "wagtailadmin/tables/column_header.html"
#: The sort link's classes: sorted by the column ascending, descending, or not by it.
SORTED_UP = "icon icon-arrow-up-after teal label"
SORTED_DOWN = "icon icon-arrow-down-after teal label"
SORTS_DOWN = "icon icon-arrow-down-after label"


def column_header_html(column, table, request):
    """Wagtail's ``tables/column_header.html`` (the same on 7.0 and 8) for ``column`` in ``table``: the label,
    linked to the listing sorted by the column when it sorts (the other way round when it is the current order),
    the page number dropped, as ``{% querystring %}`` writes it. What ``get_header_context_data`` gives the
    template, worked out here for the one title the link shows: each of its texts is a translation looked up,
    about 3 us each in a site with many apps' catalogues."""
    th_class = cells.html_format(' class="{}"', column.classname) if column.classname else ""
    sort_key = column.sort_key
    if not sort_key:
        return cells.html_format("<th{}>{}</th>", th_class, column.label)
    # ``aria-sort`` on the sorted column only (none on the others, as ARIA's sortable table pattern has it): Wagtail's
    # template says the order with an arrow drawn by CSS, which screen readers do not read.
    if table.ordering == sort_key:
        ordering, link_class, th_sort = f"-{sort_key}", SORTED_UP, ' aria-sort="ascending"'
        title = column.descending_title_text or table.get_descending_title_text(column)
    else:
        ordering, link_class = sort_key, SORTED_DOWN if table.ordering == f"-{sort_key}" else SORTS_DOWN
        th_sort = ' aria-sort="descending"' if table.ordering == f"-{sort_key}" else ""
        title = column.ascending_title_text or table.get_ascending_title_text(column)
    # A shallow copy (``QueryDict.copy`` deep-copies): the two changes below replace lists, never change one.
    query = copy.copy(request.GET)
    query.pop("p", None)
    query["ordering"] = str(ordering)
    return cells.html_format(
        # The label between line breaks, as in the template: the space after it shows, between the label and
        # the sort arrow Wagtail's CSS draws after the link's text.
        '<th{}{}><a href="{}?{}"{} class="{}">\n{}\n</a></th>',
        th_class,
        mark_safe(th_sort),  # noqa: S308 - one of the constant attributes above
        table.base_url,  # as ``{{ table.base_url }}`` prints it, None included
        query.urlencode(),
        cells.html_format(' title="{}"', title) if title else "",
        link_class,
        column.label,
    )


class BuiltHeaderMixin:
    """The column's header built in Python (``column_header_html``) where it would render Wagtail's own
    ``column_header.html``: about 40 us a column for the template, on every listing page."""

    def render_header_html(self, parent_context):
        # Only where Wagtail's template and context would serve: a header of its own goes its own way.
        own_context = type(self).get_header_context_data is not BaseColumn.get_header_context_data
        if own_context or self.header_template_name != COLUMN_HEADER_TEMPLATE or parent_context.get("request") is None:
            return super().render_header_html(parent_context)
        return column_header_html(self, parent_context["table"], parent_context["request"])
