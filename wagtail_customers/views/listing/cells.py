"""The listing's table cells as HTML built in Python, without a template render per cell.

Each function takes the cell context a column's ``get_cell_context_data`` gives and returns the markup the
cell's template gives for it (Wagtail's ``cell.html``, ``date_cell.html``, ``title_cell.html`` and
``listing_checkbox_cell.html``; the plugin's ``money_cell.html``, ``name_cell.html`` and ``_watch_eye.html``).
A Django template render costs about 0.1 ms, so at 100 rows and ten columns the templates were most of the
page's time. tests/test_listing_cells.py renders every cell both ways and compares them, on each Wagtail.
"""

import html
from datetime import datetime
from functools import lru_cache

from django.contrib.admin.utils import quote
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaultfilters import capfirst
from django.utils.formats import get_format, localize, number_format
from django.utils.functional import Promise
from django.utils.html import avoid_wrapping, conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from wagtail.admin.templatetags.wagtailadmin_tags import human_readable_date

from ...compat import WAGTAIL_7_0_DROPDOWN_TEMPLATE
from ...money import unconverted_note
from .date_text import format_datetime

DROPDOWN_TEMPLATE = "wagtailadmin/shared/button_with_dropdown.html"

#: ``base_attrs_string`` by kind of button and attributes (``attrs_string``); a few kinds, the same on each row.
ATTRS_STRINGS = {}


def escaped(value):
    """``conditional_escape(value)``: a value with ``__html__`` as it gives itself, anything else escaped, without
    the lazy-string wrapper around Django's ``escape`` (``keep_lazy``, checked on every call)."""
    # The two kinds nearly every cell passes, by exact type: no attribute lookup.
    kind = value.__class__
    if kind is SafeString:
        return value
    if kind is str:
        return SafeString(html.escape(value))
    if isinstance(value, Promise):
        value = str(value)
    to_html = getattr(value, "__html__", None)
    return to_html() if to_html is not None else SafeString(html.escape(str(value)))


def html_format(template, *args, **kwargs):
    """Django's ``format_html`` built on ``escaped``: the same markup in 3.2 us instead of 5.3 (two arguments),
    which counts at ten cells a row, each a few of these (a tenth of the rows' time at 100 rows)."""
    # ``SafeString`` rather than ``mark_safe``: ``format`` gives a plain ``str``, so its checks would pass anyway.
    if kwargs:
        return SafeString(template.format(*map(escaped, args), **{name: escaped(v) for name, v in kwargs.items()}))
    return SafeString(template.format(*map(escaped, args)))


def html_join(template, args_list):
    """``format_html_join("", template, args_list)`` on ``html_format``."""
    return mark_safe("".join(html_format(template, *args) for args in args_list))  # noqa: S308 - each is escaped


def value_html(value):
    """``value`` as ``{{ value }}`` prints it: in local time, localised, escaped unless already safe."""
    return escaped(localize(template_localtime(value)))


def attrs_html(attrs):
    """HTML attributes as ``wagtailadmin/shared/attrs.html`` writes them (``True``: bare, ``False``: left out)."""
    return mark_safe(  # noqa: S308 - each part is escaped
        "".join(
            html_format(" {}", name) if value is True else html_format(' {}="{}"', name, str(value))
            for name, value in attrs.items()
            if value is not False
        )
    )


#: A column's ``<td>`` opening tag by its class name: the same few on every row.
TD_OPENINGS = {}


def td_html(classname, inner):
    """``<td class="…">inner</td>`` (no ``class`` without a class name), ``inner`` escaped unless safe."""
    # Kept by exact text only: a safe string equal to a plain one, or 1 and True, write different tags.
    kept = classname.__class__ is str
    opening = TD_OPENINGS.get(classname) if kept else None
    if opening is None:
        opening = html_format('<td class="{}">', classname) if classname else "<td>"
        if kept:
            if len(TD_OPENINGS) > 256:
                TD_OPENINGS.clear()
            TD_OPENINGS[classname] = opening
    return SafeString(opening + escaped(inner) + "</td>")


@lru_cache(maxsize=128)
def icon_html(name, classname="icon"):
    """Wagtail's ``{% icon name=… %}`` (``wagtailadmin/shared/icon.html``), without a title."""
    return html_format(
        '<svg class="icon icon-{name} {classname}" aria-hidden="true"><use href="#icon-{name}"></use></svg>',
        name=name,
        classname=classname,
    )


def attrs_string(button, varying=()):
    """``button.base_attrs_string`` (Django's ``flatatt`` of its attributes), worked out once per kind of button
    and attributes: each row's dropdown has the same few, and ``flatatt`` cost more than the rest of an item.
    ``varying``: attributes the string leaves out (a dropdown's ``aria-label``, written on its toggle instead)."""
    key = (type(button), tuple((name, value) for name, value in button.attrs.items() if name not in varying))
    try:
        string = ATTRS_STRINGS.get(key)
    except TypeError:  # an unhashable value
        return button.base_attrs_string
    if string is None:
        if len(ATTRS_STRINGS) > 256:
            ATTRS_STRINGS.clear()
        string = ATTRS_STRINGS[key] = button.base_attrs_string
    return string


@lru_cache(maxsize=16)
def _grouping(language):
    """Per language: the thousands separator, or None where its grouping is not threes (India's is 3, 2, 0)."""
    grouping = get_format("NUMBER_GROUPING", language)
    return get_format("THOUSAND_SEPARATOR", language) if grouping == 3 else None


@receiver(setting_changed, dispatch_uid="wagtail_customers.cells.forget_grouping")
def _forget_grouping(**kwargs):
    # The per-language texts too: a changed setting (locale paths, languages) may change a translation.
    _grouping.cache_clear()
    _time_since_strings.cache_clear()
    _row_strings.cache_clear()


def grouped_number(value):
    """``number_format(value, force_grouping=True)``: a whole number grouped by threes without looking the
    language's formats up for each cell (three count columns a row); anything else through Django."""
    separator = _grouping(get_language()) if type(value) is int else None
    if separator is None:
        return number_format(value, force_grouping=True)
    text = f"{value:,}"
    return text if separator == "," else text.replace(",", separator)


def number_cell_html(classname, value):
    """``plain_cell_html`` of a count, grouped (``NumberColumn``): an empty cell for None."""
    return td_html(classname, "" if value is None else grouped_number(value))


def plain_cell_html(context):
    value = context["value"]
    return td_html(context["column"].classname, "" if value is None else value_html(value))


class _Plural:
    """One of Django's lazy ``TIME_STRINGS``, each number's text translated once (``%`` on the lazy string
    looks the translation up anew each time: most of a date cell's cost)."""

    __slots__ = ("lazy", "texts")

    def __init__(self, lazy):
        self.lazy, self.texts = lazy, {}

    def __mod__(self, values):
        number = values["num"]
        text = self.texts.get(number)
        if text is None:
            text = self.texts[number] = self.lazy % values
        return text


@lru_cache(maxsize=16)
def _time_since_strings(language):
    """Per language: the units for ``timesince``, Wagtail's "just now" / "... ago" (``timesince_simple``), and
    how many units to ask ``timesince`` for."""
    # Wagtail's and Django's own strings, translated by their catalogues: called through a name that
    # makemessages does not extract, so they stay out of ours.
    translate = _
    # Wagtail keeps what comes before the first comma of two units; where ``timesince`` joins them with a
    # comma, that is the first unit alone, so one is enough (Arabic joins them with "، ", and keeps both).
    depth = 1 if translate(", ").startswith(",") else 2
    return (
        {unit: _Plural(lazy) for unit, lazy in TIME_STRINGS.items()},
        avoid_wrapping(translate("0 minutes")),
        translate("just now"),
        translate("%(time_period)s ago"),
        depth,
    )


@lru_cache(maxsize=16)
def _row_strings(language):
    """Per language: the texts every row repeats (the eye's and the checkbox's), each looked up once."""
    return {
        "unwatch": _("On the watchlist: click to remove"),
        "watch": _("Add to the watchlist"),
        "watch_label": _("Watch %(customer)s"),
        "watched": _("On the watchlist"),
        "select": _("Select"),
        # A score or prediction column's cell for a customer the daily refresh has not scored yet (the customer
        # page says "Not scored yet" too): the same markup on every such row.
        "not_scored": html_format('<span class="wc-muted">{}</span>', _("Not scored yet")),
    }


def row_strings():
    return _row_strings(get_language())


def time_since_text(date):
    """Wagtail's ``timesince_simple(date)``, with the translations looked up once per language."""
    units, zero, just_now, ago, depth = _time_since_strings(get_language())
    period = timesince(date, time_strings=units, depth=depth).split(",")[0]
    return just_now if period == zero else ago % {"time_period": period}


def local_time_in(zone):
    """``template_localtime`` with the current time zone given (None where ``USE_TZ`` is off): a listing page
    converts a date a row, and looking the zone up is most of ``template_localtime``'s cost."""

    def local_time(value):
        if zone is not None and value.__class__ is datetime and value.utcoffset() is not None:
            return value.astimezone(zone)
        return template_localtime(value)

    return local_time


def human_readable_date_html(date, local_time=template_localtime):
    """Wagtail's ``{% human_readable_date date %}``: the time since, with the full date as a tooltip.
    ``local_time``: ``template_localtime``, or what ``local_time_in`` gives for the page."""
    # The tag's own function picks the tooltip's format (the setting on Wagtail 7.0, the language's later).
    tooltip_format = human_readable_date(date)["tooltip_format"]
    local = local_time(date)
    return html_format(
        '<button type="button" class="w-human-readable-date" data-controller="w-tooltip"'
        ' data-w-tooltip-content-value="{}" data-w-tooltip-placement-value="top">'
        '<time class="w-human-readable-date__date" datetime="{}">{}</time></button>',
        format_datetime(local, tooltip_format),
        # What the date filter's "c" gives, without parsing a format.
        local.isoformat(),
        capfirst(time_since_text(date)),
    )


def date_cell_html(context):
    value = context["value"]
    return td_html(context["column"].classname, human_readable_date_html(value) if value else "")


def incomplete_marker_html(unconverted_orders):
    """``{% incomplete_marker unconverted_orders %}`` (``_incomplete_marker.html``) as a table cell shows it."""
    if not unconverted_orders:
        return ""
    note = unconverted_note(unconverted_orders)
    return html_format(
        '<span class="wc-incomplete" data-wc-incomplete><span title="{note}" aria-hidden="true">{icon}</span>'
        '<span class="w-sr-only">{note}</span></span>',
        note=note,
        icon=icon_html("warning", "wc-incomplete__icon"),
    )


def money_cell_html(context):
    value = context["value"]
    inner = ""
    if value is not None:
        inner = html_format(
            '<span class="wc-money-cell">{}{}</span>',
            value_html(value),
            incomplete_marker_html(context["unconverted_orders"]),
        )
    return td_html(context["column"].classname, inner)


def checkbox_cell_html(context):
    """Wagtail's bulk-action checkbox (``listing_checkbox_cell.html``) for a row that is not a page."""
    describedby = context["aria_describedby"]
    return html_format(
        '<td class="bulk-action-checkbox-cell"><input type="checkbox" data-object-id="{}" data-bulk-action-checkbox'
        ' class="bulk-action-checkbox" aria-label="{}"{} /></td>',
        quote(str(context["instance"].pk)),
        row_strings()["select"],
        html_format(' aria-describedby="{}"', describedby) if describedby else "",
    )


def watch_eye_html(context):
    """The watchlist eye (``_watch_eye.html``): a form for a user who may change the watchlist, else a mark."""
    watched = context["watched"]
    strings = row_strings()
    if context["can_manage_watchlist"]:
        pressed = "true" if watched else "false"
        return html_format(
            '<form class="wc-watch" method="post" action="{url}" data-controller="wc-watchlist-toggle"'
            ' data-action="submit->wc-watchlist-toggle#toggle" data-wc-watchlist-toggle-watched-value="{pressed}">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">'
            '<input type="hidden" name="next" value="{next_url}">'
            '<input type="hidden" name="watch" value="{watch_value}" data-wc-watchlist-toggle-target="watch">'
            '<button type="submit" class="{classname}" aria-pressed="{pressed}" title="{title}"'
            ' data-wc-watchlist-toggle-target="button">{icon}<span class="w-sr-only">{label}</span></button></form>',
            url=context["watchlist_url"],
            pressed=pressed,
            csrf_token=context["csrf_token"],
            next_url=context["next_url"],
            watch_value=context["watch_value"],
            classname="wc-eye wc-eye--on" if watched else "wc-eye",
            title=strings["unwatch"] if watched else strings["watch"],
            icon=icon_html("view" if watched else "wc-eye-outline"),
            # As {% blocktrans %} does: the name escaped, the translated sentence around it taken as it is.
            label=mark_safe(strings["watch_label"] % {"customer": conditional_escape(context["customer_label"])}),
        )
    if watched:
        return html_format(
            '<span class="wc-eye wc-eye--on wc-eye--static" title="{title}">{icon}'
            '<span class="w-sr-only">{title}</span></span>',
            title=strings["watched"],
            icon=icon_html("view"),
        )
    return ""


def title_html(context):
    """The title in Wagtail's ``title_cell.html``: the value (in a ``<span>`` given ``title_id``), linked, or a
    ``<label>`` given ``label_id``."""
    value = value_html(context["value"])
    title = html_format('<span id="{}">{}</span>', context["title_id"], value) if context["title_id"] else value
    if context["link_url"]:
        title = html_format("<a{}>{}</a>", attrs_html(context["link_attrs"]), title)
    elif context["label_id"]:
        title = html_format('<label for="{}">{}</label>', context["label_id"], title)
    return title


def title_cell_html(context):
    """Wagtail's ``title_cell.html``: the title (``title_html``) and the buttons' ``<ul>`` when there are any
    (``ButtonsColumnMixin``)."""
    title = title_html(context)
    classname = context["column"].classname
    buttons = context.get("buttons")
    return html_format(
        '<td class="{classname}title"><div class="title-wrapper">{title}</div>{actions}</td>',
        classname=f"{classname} " if classname else "",
        title=title,
        actions=html_format('<ul class="actions">{}</ul>', buttons_html(buttons, context)) if buttons else "",
    )


def status_tag_cell_html(context):
    """Wagtail's ``status_tag_cell.html``: ``{% status value %}``, with ``w-status--primary`` when ``primary``."""
    value = context["value"]
    return td_html(
        context["column"].classname,
        html_format(
            '<span class="{}">{}</span>',
            "w-status w-status--primary" if context["primary"] else "w-status",
            value_html(value) if value else "",
        ),
    )


def name_cell_html(context, buttons_html):
    """The name cell (``name_cell.html`` over Wagtail's ``title_cell.html``): eye, linked name, "..." menu.

    ``buttons_html`` is the rendered buttons (the row's "..." dropdown), each already in its ``<li>``.
    """
    title = title_html(context)
    classname = context["column"].classname
    return html_format(
        '<td class="{classname}title"><div class="title-wrapper"><span class="wc-name">{eye}{title}</span></div>'
        "{actions}</td>",
        classname=f"{classname} " if classname else "",
        eye=watch_eye_html(context),
        title=title,
        actions=html_format('<ul class="actions">{}</ul>', buttons_html) if context["buttons"] else "",
    )


def buttons_html(buttons, context):
    """``wagtailadmin/shared/buttons.html``: each shown button in an ``<li>``, a dropdown of links built here."""
    return mark_safe(  # noqa: S308 - each part is escaped or built with html_format
        "".join(f"<li>{dropdown_html(button, context)}</li>" for button in buttons if button.show)
    )


def dropdown_html(dropdown, context):
    """A ``ButtonWithDropdown`` whose items are links, as Wagtail's template renders it (the dropdown markup
    is ``wagtailadmin/shared/dropdown/dropdown.html``); any other button through its own template."""
    items = sorted(getattr(dropdown, "dropdown_buttons", None) or [])
    template = getattr(dropdown, "template_name", None)
    if template not in (DROPDOWN_TEMPLATE, WAGTAIL_7_0_DROPDOWN_TEMPLATE) or any(not item.url for item in items):
        return conditional_escape(dropdown.render_html(context))
    wagtail_7_0 = template == WAGTAIL_7_0_DROPDOWN_TEMPLATE
    toggle_classname = " ".join(
        name.strip()
        for name in ("w-dropdown__toggle", "" if dropdown.label else "w-dropdown__toggle--icon", dropdown.classname)
        if name
    )
    aria_label = dropdown.aria_label
    return html_format(
        '<div data-controller="w-dropdown" class="w-dropdown"{attrs}>'
        '<button type="button" class="{toggle_classname}" data-w-dropdown-target="toggle"{aria_label}>'
        "{label}{icon}</button>"
        '<div data-w-dropdown-target="content" class="w-dropdown__content" hidden>{items}</div></div>',
        # Wagtail 7.0's template asks for attributes it is never given.
        attrs="" if wagtail_7_0 else html_format(" {}", attrs_string(dropdown, varying=("aria-label",))),
        toggle_classname=toggle_classname,
        aria_label=html_format(' aria-label="{}"', aria_label) if aria_label else "",
        label=dropdown.label,
        icon=icon_html(dropdown.icon_name or "arrow-down", "w-dropdown__toggle-icon"),
        items=html_join("{}", ((dropdown_item_html(item, wagtail_7_0),) for item in items)),
    )


def dropdown_item_html(item, wagtail_7_0):
    """A link in a dropdown: Wagtail's ``shared/button.html`` (7.0: ``pages/listing/_dropdown_items.html``)."""
    return html_format(
        '<a href="{url}"{classname} {attrs}>{icon} {label}</a>',
        url=item.url,
        classname="" if wagtail_7_0 else html_format(' class="{}"', item.classname),
        attrs=attrs_string(item),
        icon=icon_html(item.icon_name) if item.icon_name else "",
        label=item.label,
    )


def not_scored_cell_html(classname):
    """The cell of a score or prediction column for a customer not scored yet (``not_scored_cell.html``)."""
    return td_html(classname, row_strings()["not_scored"])


def rfm_group_cell_html(context):
    """The RFM group as Wagtail's status tag (``{% status %}``), with a class per group for its colour."""
    value = context["value"]
    if value is None:
        return td_html(context["column"].classname, "")
    group, label = value
    return td_html(
        context["column"].classname,
        html_format('<span class="w-status wc-rfm wc-rfm--{}">{}</span>', group.replace("_", "-"), label),
    )
