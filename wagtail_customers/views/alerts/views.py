"""The alerts list and marking alerts read (POST only; the ids of other users' alerts are ignored)."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ...alerts.display import alert_items, with_details
from ...alerts.recipients import alerted_accounts, preference_for
from ...ids import parse_ids
from ...permissions import Action, accounts_for, can
from ..listing.access import is_site_path
from .queries import shown_alerts

#: Alerts per page, newest first.
PER_PAGE = 50


def _check_access(user):
    if not can(user, Action.VIEW):
        raise PermissionDenied


class AlertListView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_customers/alerts/index.html"
    page_title = gettext_lazy("Alerts")
    header_icon = "warning"
    http_method_names = ["get"]

    def dispatch(self, request, *args, **kwargs):
        _check_access(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [{"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alerts = with_details(shown_alerts(self.request.user)).order_by("-event__occurred_at", "-pk")
        page = Paginator(alerts, PER_PAGE).get_page(self.request.GET.get("p"))
        items = alert_items(self.request.user, page.object_list)
        context.update(
            page_obj=page,
            items=items,
            unread=shown_alerts(self.request.user).filter(read_at__isnull=True).exists(),
        )
        if not items:
            # Why the list is empty: "no alerts yet" is untrue to a user whose preferences keep them off this page.
            context.update(
                in_admin_off=not preference_for(self.request.user).in_admin,
                all_accounts_muted=(
                    not alerted_accounts(self.request.user).exists() and accounts_for(self.request.user).exists()
                ),
            )
        return context


def _back(request):
    """To ``next`` if it is a path on this site, else the alerts page (a bare ``next=foo`` passes the host check,
    and ``redirect()`` would take it for a URL name)."""
    target = request.POST.get("next", "")
    if (
        target
        and is_site_path(target)
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    ):
        return redirect(target)
    return redirect("wagtail_customers_alerts:index")


@require_POST
def mark_read(request):
    _check_access(request.user)
    ids = parse_ids(request.POST.getlist("id"))
    shown_alerts(request.user).filter(pk__in=ids, read_at__isnull=True).update(read_at=timezone.now())
    return _back(request)


@require_POST
def mark_all_read(request):
    _check_access(request.user)
    marked = shown_alerts(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        messages.success(request, _("All alerts marked as read."))
    return _back(request)
