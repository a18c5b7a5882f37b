"""The listing's name column: the watchlist eye, the customer's name linking to the customer page, and the
row's "..." menu (view, erase personal data, delete).

The cell is the row's costliest (a form, a link and a dropdown, about thirty escaped values). Its markup
differs between rows only by the customer's id and (non-blank) name once the row's state is known (watched or not, which
actions the user may take), so it is built once per page for each state, for a stand-in customer, and each
row's id and name are put in the stand-in's place. A template is used only if one built for a second stand-in
is what replacing the first stand-in by the second gives, which rules out a stand-in text already on the page
(in the ``next`` URL, say); otherwise, and for an id that is not a non-negative integer, the cell is built for
its row. tests/test_listing_cells.py and tests/test_listing_rows.py compare the cells with the templates'.
"""

import html
from urllib.parse import urlencode

from django.contrib.admin.utils import quote
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from wagtail.admin.ui.tables import ButtonsColumnMixin, TitleColumn
from wagtail.admin.widgets.button import Button, ButtonWithDropdown

from . import cells
from .headers import BuiltHeaderMixin

#: A customer id no real row has, standing for the id in a URL reversed once per page (``RowUrl``) and in a
#: name cell built once per page.
URL_ID_PLACEHOLDER = 987_654_321_012_345
#: A name no customer has, standing for the customer's name in a name cell built once per page; letters and
#: digits only, so escaping leaves it as it is.
NAME_PLACEHOLDER = "wcRowTitle4f1c9a7e2b"
#: A second stand-in (id, name), to check a cell built with the first (see the module's doc).
CHECK_STAND_IN = (987_654_321_054_321, "wcRowTitle9b3d5f7a1c")


class RowUrl:
    """``reverse(url_name, args=(pk,))`` for each row from one ``reverse()`` per page: the URL is reversed with a
    placeholder id once and the row's id put in its place. Only for a non-negative integer id, which ``reverse``
    writes as its digits unquoted (so the URL is the same string); any other id goes through ``reverse``."""

    def __init__(self, url_name):
        self.url_name = url_name
        placeholder = str(URL_ID_PLACEHOLDER)
        url = reverse(url_name, args=(URL_ID_PLACEHOLDER,))
        self.parts = url.split(placeholder) if url.count(placeholder) == 1 else None

    def __call__(self, pk):
        if self.parts is None or type(pk) is not int or pk < 0:
            return reverse(self.url_name, args=(pk,))
        return f"{self.parts[0]}{pk}{self.parts[1]}"


def is_watched(customer):
    # With select_related("watchlist_entry") a missing entry is cached: no query either way.
    return hasattr(customer, "watchlist_entry")


class StandInCustomer:
    """What the name cell reads from a customer, with a stand-in id and name and ``like``'s state."""

    def __init__(self, pk, name, like):
        self.pk, self.name = pk, name
        self.account_id, self.erased_at = like.account_id, like.erased_at
        if is_watched(like):
            self.watchlist_entry = like.watchlist_entry

    def __str__(self):
        return self.name


class CustomerNameColumn(BuiltHeaderMixin, ButtonsColumnMixin, TitleColumn):
    """The customer's name linking to the customer page, with the watchlist eye on its left and a
    "..." menu (view, erase personal data, delete) on its right."""

    cell_template_name = "wagtail_customers/listing/name_cell.html"

    def __init__(self, *, label, sort_key, context):
        #: Per-page facts: ``manage_account_ids``, ``delete_account_ids``, ``erase_account_ids``, ``request``,
        #: ``next_url``, and ``page_url`` (``next_url`` with the page's position, for the eye) where there is one.
        self.context = context
        super().__init__(
            "name",
            label=label,
            sort_key=sort_key,
            accessor=str,
            get_url=lambda customer: self.row_urls["detail"](customer.pk),
            get_title_id=lambda customer: f"customer_{quote(customer.pk)}_title",
            # Sticky while the table scrolls sideways (listing.css).
            classname="wc-name-column",
        )

    @cached_property
    def row_urls(self):
        """Per page (a column is made for each page): each row link's URL from one ``reverse()``."""
        return {
            "detail": RowUrl("wagtail_customers_customer:detail"),
            "watchlist_toggle": RowUrl("wagtail_customers:watchlist_toggle"),
            "erase": RowUrl("wagtail_customers:erase"),
            "delete": RowUrl("wagtail_customers:delete"),
        }

    @cached_property
    def csrf_token(self):
        # One per page, as ``{% csrf_token %}`` gives one per template render (each call masks the secret anew).
        return get_token(self.context["request"])

    @cached_property
    def labels(self):
        # Translated once per page, not for each row's menu.
        return {"view": _("View customer"), "erase": _("Erase personal data"), "delete": _("Delete")}

    @cached_property
    def next_query(self):
        # A query string value, URL-encoded (``admin.utils.quote`` is for ids in paths, not this).
        return urlencode({"next": self.context["next_url"]})

    @cached_property
    def shared_cells(self):
        """A row state (``row_state``) -> its cell with the placeholders in it, or False: built for each row."""
        return {}

    def row_state(self, instance):
        """What, besides its id and name, the row's cell depends on."""
        may_manage = instance.account_id in self.context["manage_account_ids"]
        return (is_watched(instance), may_manage, *self.row_actions(instance))

    def render_cell_html(self, instance, parent_context):
        pk, name = instance.pk, str(instance)
        # A blank name is Wagtail's "(blank)", not the name: built for its row, as is an id that is no plain number.
        if type(pk) is not int or pk < 0 or not name.strip():
            return self.built_cell_html(instance, parent_context)
        state = self.row_state(instance)
        template = self.shared_cells.get(state)
        if template is None:
            template = self.shared_cells[state] = self.shared_cell(instance, parent_context)
        if template is False:
            return self.built_cell_html(instance, parent_context)
        html_text = template.replace(str(URL_ID_PLACEHOLDER), str(pk)).replace(NAME_PLACEHOLDER, html.escape(name))
        return mark_safe(html_text)  # noqa: S308 - the template is built escaped; the name is escaped here

    def shared_cell(self, instance, parent_context):
        """The cell for ``instance``'s state with the placeholders in it, or False where it cannot serve."""
        check_pk, check_name = CHECK_STAND_IN
        cell, check = (
            str(self.built_cell_html(StandInCustomer(pk, name, like=instance), parent_context))
            for pk, name in ((URL_ID_PLACEHOLDER, NAME_PLACEHOLDER), CHECK_STAND_IN)
        )
        replaced = cell.replace(str(URL_ID_PLACEHOLDER), str(check_pk)).replace(NAME_PLACEHOLDER, check_name)
        return cell if replaced == check and str(URL_ID_PLACEHOLDER) in cell else False

    def built_cell_html(self, instance, parent_context):
        """The cell built for this one row."""
        # The title column's context without the mixin's buttons: the row's menu is built here.
        context = self.with_row_context(TitleColumn.get_cell_context_data(self, instance, parent_context), instance)
        context["buttons"] = True
        buttons = cells.buttons_html(self.get_buttons(instance, parent_context), parent_context)
        return cells.name_cell_html(context, buttons)

    def get_cell_context_data(self, instance, parent_context):
        return self.with_row_context(super().get_cell_context_data(instance, parent_context), instance)

    def with_row_context(self, context, instance):
        watched = is_watched(instance)
        context.update(
            watched=watched,
            can_manage_watchlist=instance.account_id in self.context["manage_account_ids"],
            watchlist_url=self.row_urls["watchlist_toggle"](instance.pk),
            watch_value="0" if watched else "1",
            csrf_token=self.csrf_token,
            # Without JavaScript the eye reloads the page: this very page, not the listing's first.
            next_url=self.context.get("page_url") or self.context["next_url"],
            customer_label=str(instance),
        )
        return context

    def row_actions(self, instance):
        """Which of the menu's actions the row has: (erase, delete)."""
        erase = instance.account_id in self.context["erase_account_ids"] and instance.erased_at is None
        return erase, instance.account_id in self.context["delete_account_ids"]

    def get_buttons(self, instance, parent_context):
        return self.buttons_for(instance.pk, str(instance), *self.row_actions(instance))

    def buttons_for(self, pk, title, erase, delete):
        more = [Button(self.labels["view"], self.row_urls["detail"](pk), icon_name="user", priority=10)]
        if erase:
            erase_url = self.row_urls["erase"](pk)
            more.append(Button(self.labels["erase"], f"{erase_url}?{self.next_query}", icon_name="user", priority=20))
        if delete:
            delete_url = self.row_urls["delete"](pk)
            more.append(Button(self.labels["delete"], f"{delete_url}?{self.next_query}", icon_name="bin", priority=30))
        return [
            ButtonWithDropdown(
                buttons=more,
                icon_name="dots-horizontal",
                attrs={"aria-label": _("More options for '%(title)s'") % {"title": title}},
            )
        ]
