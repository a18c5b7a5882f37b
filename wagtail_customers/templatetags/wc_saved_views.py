"""The Customers listing's "Saved views" menu: its button, and where its panel loads from (views/saved_views/menu)."""

from django import template

from ..services.saved_views import COLUMNS_PARAM, VIEW_PARAM, has_refused_save, opened_view, saved_views_menu_url

register = template.Library()


@register.inclusion_tag("wagtail_customers/saved_views/listing_controls.html", takes_context=True)
def saved_views_controls(context):
    """``{% saved_views_controls %}`` in the listing's toolbar (``view`` is the ``CustomerIndexView``)."""
    request, listing_view = context["request"], context["view"]
    params = listing_view.current_params.copy()
    # The opened view and the columns shown are not the listing's parameters: the forms carry the columns apart.
    params.pop(VIEW_PARAM, None)
    params.pop(COLUMNS_PARAM, None)
    # Read once per request: the listing's columns asked already.
    opened = opened_view(request)
    return {
        "opened": opened,
        # Open on arrival after a refused "Save current view": its panel loads with the form and its error.
        "open_on_arrival": has_refused_save(request),
        "menu_url": saved_views_menu_url(
            tab_slug=listing_view.tab.slug,
            params=params,
            columns=[column.name for column in listing_view.visible_columns],
            listing_url=listing_view.current_url,
            opened=opened,
        ),
    }
