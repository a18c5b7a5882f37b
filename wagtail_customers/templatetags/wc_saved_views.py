"""The Customers listing's "Saved views" menu: open a view, save the current listing, update the open view."""

from django import template

from ..models import SavedViewVisibility
from ..services.saved_views import VIEW_PARAM, opened_view, visible_views

register = template.Library()

#: Views listed in the menu; the management page lists them all.
MENU_LIMIT = 20


@register.inclusion_tag("wagtail_customers/saved_views/listing_controls.html", takes_context=True)
def saved_views_controls(context):
    """``{% saved_views_controls %}`` in the listing's toolbar (``view`` is the ``CustomerIndexView``)."""
    request, listing_view = context["request"], context["view"]
    params = listing_view.current_params.copy()
    params.pop(VIEW_PARAM, None)
    opened = opened_view(request)
    views = list(visible_views(request.user)[: MENU_LIMIT + 1])
    return {
        "request": request,
        "views": views[:MENU_LIMIT],
        "has_more": len(views) > MENU_LIMIT,
        "opened": opened,
        "may_update": opened is not None and opened.owner_id == request.user.pk,
        "tab_slug": listing_view.tab.slug,
        "query": params.urlencode(),
        "columns": [column.name for column in listing_view.visible_columns],
        "next_url": listing_view.current_url,
        "visibility_choices": SavedViewVisibility.choices,
        "private": SavedViewVisibility.PRIVATE,
    }
