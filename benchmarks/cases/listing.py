"""Listing and search: every tab, page 1 and a deep page, 10 and 100 rows, with and without search,
a seller-account filter and two of the drawer's filters combined, through the Django test client as the
logged-in superuser; the same request against the A0 baseline (``benchmarks.baselines``) in the same
process, case by case. A few cases again as a seller's staff member (``STAFF_CASES``): grants on every account
instead of module-wide permissions, what most users of a seller's admin have."""

import html
import math
import re
from urllib.parse import parse_qsl, urlencode

from django.test import Client

from wagtail_customers.models import SellerAccount

from ..baselines import A0_INDEX_URL, A0_TABS, SHELL_INDEX_URL
from ..measure import measure
from ..profile import profile_case

#: The plugin's tab URLs (the listing issue's contract).
PLUGIN_TABS = {
    "all": "/admin/customers/",
    "highest-value": "/admin/customers/highest-value/",
    "most-orders": "/admin/customers/most-orders/",
    "most-returned": "/admin/customers/most-returned/",
    "promo-codes": "/admin/customers/promo-codes/",
    "watchlist": "/admin/customers/watchlist/",
}
#: A surname of the demo data: matches about one customer in forty, by name and by e-mail.
SEARCH_TERM = "smith"
FILTER_ACCOUNT = "Shopify EU"


def _tab_count(user, tab, params):
    """Rows of a plugin tab, from the listing module (what its paginator counts)."""
    try:
        from wagtail_customers.listing import customer_listing_queryset
    except ImportError:
        return None
    return customer_listing_queryset(user, tab, params).count()


#: The cases ``--quick`` keeps for each tab: page 1, the deepest page, search with an account filter.
QUICK = ("p1 x10", "deep", "deep-seek", "search+account")
NO_MATCH = "zz-no-such-customer"
#: A marker in a case's parameters (not sent): request the tab's ``results/`` fragment instead of the page.
RESULTS_ONLY = "_results_only"
#: Cases measured as a seller's staff member (``datasets.seller_staff_user``); no A0 counterpart (A0 is a
#: superuser's page). Their entries say so: ``"user": "staff"``.
STAFF_CASES = (
    ("all staff-p1 x10", "all", {"per_page": 10}),
    ("all staff-search x10", "all", {"per_page": 10, "q": SEARCH_TERM}),
)


def _next_link_params(user, tab, params):
    """The query parameters of the "Next" link on the page ``params`` opens (its keyset position), or None."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get(f"{PLUGIN_TABS[tab]}?{urlencode(params)}")
    match = re.search(rb'<li class="next">\s*<a href="[^"?]*\?([^"]*)"', response.content)
    return dict(parse_qsl(html.unescape(match[1].decode()))) if match else None


def listing_cases(user, quick=False):
    """The case grid: (name, tab, params) with the deep page computed from the tab's rows.

    "deep" opens the last page by its number (OFFSET); "deep-seek" opens it as a user paging on does,
    from the previous page's "Next" link (a keyset position, ``wagtail_customers/keyset.py``).
    """
    filter_account = SellerAccount.objects.get(name=FILTER_ACCOUNT)
    account_id = filter_account.pk
    # Two filters combined: the repeat buyers of one channel (the drawer's filters, not the account selector).
    two_filters = {"per_page": 10, "channel": filter_account.channel, "orders_min": 2}
    cases = []
    for tab in PLUGIN_TABS:
        rows = _tab_count(user, tab, {})
        for per_page in (10, 100):
            cases.append((f"{tab} p1 x{per_page}", tab, {"per_page": per_page}))
            last_page = max(1, math.ceil((rows or 0) / per_page))
            if last_page > 1:
                cases.append((f"{tab} deep p{last_page} x{per_page}", tab, {"per_page": per_page, "p": last_page}))
                sought = _next_link_params(user, tab, {"per_page": per_page, "p": last_page - 1})
                if sought and ("after" in sought or "before" in sought):
                    cases.append((f"{tab} deep-seek p{last_page} x{per_page}", tab, sought))
        cases.append((f"{tab} search x10", tab, {"per_page": 10, "q": SEARCH_TERM}))
        cases.append((f"{tab} account x10", tab, {"per_page": 10, "account": account_id}))
        cases.append((f"{tab} search+account x10", tab, {"per_page": 10, "q": SEARCH_TERM, "account": account_id}))
        cases.append((f"{tab} filters x10", tab, two_filters))
    # What the page costs around the rows: a search that matches nobody (the admin page, the empty table),
    # and the results-only fragment the listing fetches when a filter changes (the rows, no admin page).
    cases.append(("all no-match x10", "all", {"per_page": 10, "q": NO_MATCH}))
    cases.append(("all results-only p1 x10", "all", {"per_page": 10, RESULTS_ONLY: 1}))
    cases.append(("all results-only p1 x100", "all", {"per_page": 100, RESULTS_ONLY: 1}))
    if quick:
        cases = [case for case in cases if any(f" {marker}" in case[0] for marker in QUICK)]
        cases = [case for case in cases if " deep" not in case[0] or case[0].endswith("x100")]
    return cases


def _get(client, url):
    def call():
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        # Table rows, less the heading row: an empty page may run fewer queries than a full one.
        return response.status_code, len(body), max(0, body.count(b"<tr") - 1)

    return call


def _ok(result):
    status = result[0]
    if status != 200:
        raise RuntimeError(f"HTTP {status}")


def run(user, repeat, baseline_repeat, log=print, only_plugin=False, quick=False, staff_user=None):
    # A server error is a result to report (HTTP 500), not a reason to stop the run.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    staff_client = None
    if staff_user is not None:
        staff_client = Client(raise_request_exception=False)
        staff_client.force_login(staff_user)
    results = []
    # The floor every case is compared with: Wagtail's own index page of a one-field model (baselines.py).
    shell = {"case": "shell", "tab": "shell", "params": {}, "plugin_url": SHELL_INDEX_URL}
    shell["plugin"], (_status, shell["plugin_bytes"], shell["plugin_rows"]) = measure(
        _get(client, SHELL_INDEX_URL), repeat=repeat, check=_ok
    )
    log(_line(shell))
    results.append(shell)
    cases = [(name, tab, params, client) for name, tab, params in listing_cases(user, quick)]
    if staff_client is not None:
        cases += [(name, tab, params, staff_client) for name, tab, params in STAFF_CASES]
    for name, tab, params, case_client in cases:
        entry = {"case": name, "tab": tab, "params": {k: str(v) for k, v in params.items()}}
        if case_client is staff_client:
            entry["user"] = "staff"
        params = dict(params)
        suffix = "results/" if params.pop(RESULTS_ONLY, None) else ""
        plugin_url = f"{PLUGIN_TABS[tab]}{suffix}?{urlencode(params)}"
        entry["plugin_url"] = plugin_url
        try:
            entry["plugin"], (_status, entry["plugin_bytes"], entry["plugin_rows"]) = measure(
                _get(case_client, plugin_url), repeat=repeat, check=_ok
            )
        except RuntimeError as error:
            entry["plugin_error"] = str(error)
        if not only_plugin and tab in A0_TABS and case_client is client:
            a0_url = f"{A0_INDEX_URL}{suffix}?{urlencode({'tab': tab, **params})}"
            entry["a0_url"] = a0_url
            try:
                entry["a0"], _result = measure(
                    _get(client, a0_url), repeat=baseline_repeat, warmup=1, memory=False, check=_ok
                )
            except RuntimeError as error:
                entry["a0_error"] = str(error)
        if "plugin" in entry:
            entry["times_shell_p95"] = round(entry["plugin"]["p95_ms"] / shell["plugin"]["p95_ms"], 2)
        if "plugin" in entry and "a0" in entry:
            entry["ratio_median"] = round(entry["a0"]["median_ms"] / entry["plugin"]["median_ms"], 1)
            entry["ratio_p95"] = round(entry["a0"]["p95_ms"] / entry["plugin"]["p95_ms"], 1)
        log(_line(entry))
        results.append(entry)
    return results


def profile_worst(user, results, log=print, staff_user=None):
    """Where the time goes in the worst case against the shell page (as the user it was measured as), and in the
    shell page itself."""
    measured = [entry for entry in results if "times_shell_p95" in entry and entry["case"] != "shell"]
    if not measured:
        return {}
    worst = max(measured, key=lambda entry: entry["times_shell_p95"])
    log(f"    profiling {worst['case']} and the shell page")
    return {
        "case": worst["case"],
        "worst": profile_case(staff_user if worst.get("user") == "staff" else user, worst["plugin_url"]),
        "shell": profile_case(user, SHELL_INDEX_URL),
    }


def _line(entry):
    plugin = entry.get("plugin")
    a0 = entry.get("a0")
    text = f"    {entry['case']:<34}"
    text += (
        f" plugin p50 {plugin['median_ms']:>8.1f} ms p95 {plugin['p95_ms']:>8.1f} ms q={plugin['queries']}"
        if plugin
        else f" plugin {entry.get('plugin_error')}"
    )
    if a0:
        text += f" | A0 p50 {a0['median_ms']:>9.1f} ms q={a0['queries']} | x{entry.get('ratio_median', '-')}"
    return text
