"""The listing's "Saved views" menu, loaded when it is first opened.

The menu lists the views the user may open (a query) and holds the forms "Save current view" and, for the owner
of the open view, "Update “<name>” to this listing". Rendered with each listing page and each results refresh,
it took 1.3-1.9 ms of a 21 ms page at 200,000 customers on SQLite, for a menu a seller opens now and then. The
page holds the menu's button and a placeholder instead (``listing/_lazy_menu.html``, as the "Columns" menu does),
and ``wc-lazy-panel`` (``static/wagtail_customers/js/lazy-panel-controller.js``) fetches the panel from here when
the menu is opened. Without JavaScript the placeholder's link opens the same menu on a page of its own.

After a refused "Save current view" the listing opens this menu on arrival (the menu's own page, when the form was
sent from there), and its form shows what was typed and why it was refused (``services.saved_views.refused_save``),
once.

A ``saved_view`` the user may not open is ignored (the menu shows no view as open), not answered with 404.

The listing's state the forms save (tab, parameters, columns) and where they go back to travel in the menu's URL;
the forms' own views check them again (``views.create_view``, ``views.update_view``).
"""

from django.utils.translation import gettext as _

from ...models import SavedViewVisibility
from ...services.saved_views import clean_tab, opened_view, refused_save, visible_views
from ..listing.access import next_url, panel_or_page, toolbar_menu_view

PANEL_TEMPLATE = "wagtail_customers/saved_views/_menu_panel.html"
PAGE_TEMPLATE = "wagtail_customers/saved_views/menu.html"

#: Views listed in the menu; the management page lists them all.
MENU_LIMIT = 20


@toolbar_menu_view
def saved_views_menu(request):
    opened = opened_view(request)
    back_url = next_url(request)
    views = list(visible_views(request.user)[: MENU_LIMIT + 1])
    context = {
        "views": views[:MENU_LIMIT],
        "has_more": len(views) > MENU_LIMIT,
        "opened": opened,
        "may_update": opened is not None and opened.owner_id == request.user.pk,
        "user_pk": request.user.pk,
        "tab_slug": clean_tab(request.GET.get("tab", "")),
        "query": request.GET.get("query", ""),
        "columns": request.GET.getlist("columns"),
        "next_url": back_url,
        # Where a refused save goes back to when the form is sent from this page (no JavaScript).
        "menu_page_url": request.get_full_path(),
        "visibility_choices": SavedViewVisibility.choices,
        "private": SavedViewVisibility.PRIVATE,
        # A "Save current view" refused just before: its form again, as it was sent, with its errors.
        "refused": refused_save(request),
    }
    return panel_or_page(
        request,
        PANEL_TEMPLATE,
        PAGE_TEMPLATE,
        context,
        page_title=_("Customers: saved views"),
        header_title=_("Saved views"),
        back_url=back_url,
    )
