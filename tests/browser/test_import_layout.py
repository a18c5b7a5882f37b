"""The Import screen and an import job's page on a phone (390 x 844), measured in Chromium.

Every control is wholly in the window and every table column can be reached: the page never grows wider than
the window, each select's right edge is in it, and each table either fits or scrolls sideways in the plugin's
scroll box (``.wc-table-scroll``). At 390 px the "File layout" and "Text encoding" selects were 552 and 626 px
wide (their text and arrow cut off), "Your recent imports" lost its State column and the preview's Currencies
table its header. The pages pass axe at that width (a box that scrolls is a named region the keyboard reaches).
Runs on Wagtail 7.0's markup too.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.browser.test_accessibility import run_axe
from wagtail_customers.importers import jobs
from wagtail_customers.models import Channel, SellerAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = (390, 844)

#: Each select, and each table with where it is drawn: its own right edge, its header cells' and its scroll box's.
MEASURE = """() => {
    const width = window.innerWidth;
    const selects = [...document.querySelectorAll('main select')].map(el => {
        const r = el.getBoundingClientRect();
        return {name: el.name, left: r.left, right: r.right, width};
    });
    const tables = [...document.querySelectorAll('main table')].map(table => {
        const label = table.getAttribute('aria-label') || table.getAttribute('aria-labelledby')
            || table.dataset && Object.keys(table.dataset).join(',');
        const scroller = table.closest('.wc-table-scroll');
        const cells = [...table.querySelectorAll('tr:first-child > th, tr:first-child > td')];
        const right = Math.max(table.getBoundingClientRect().right, ...cells.map(c => c.getBoundingClientRect().right));
        const entry = {label, right, width};
        if (scroller) {
            const s = scroller.getBoundingClientRect();
            Object.assign(entry, {
                scroller: true,
                scrollerLeft: s.left,
                scrollerRight: s.right,
                scrollWidth: scroller.scrollWidth,
                clientWidth: scroller.clientWidth,
                overflowX: getComputedStyle(scroller).overflowX,
            });
        }
        return entry;
    });
    return {
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: width,
        selects,
        tables,
    };
}"""


def assert_nothing_out_of_reach(page):
    found = page.evaluate(MEASURE)
    assert found["scrollWidth"] <= found["innerWidth"], found
    for select in found["selects"]:
        assert -0.5 <= select["left"] and select["right"] <= select["width"] + 0.5, select
    assert found["tables"], "no table measured"
    for table in found["tables"]:
        fits = table["right"] <= table["width"] + 0.5 and (
            not table.get("scroller") or table["scrollWidth"] <= table["clientWidth"] + 1
        )
        scrolls = (
            table.get("scroller")
            and table["scrollWidth"] > table["clientWidth"]
            and table["overflowX"] in ("auto", "scroll")
            and -0.5 <= table["scrollerLeft"]
            and table["scrollerRight"] <= table["width"] + 0.5
        )
        assert fits or scrolls, table
    return found


@pytest.fixture
def eur_account(db):
    return SellerAccount.objects.create(
        name="Berliner Buchhandlung GmbH Online-Versand", channel=Channel.SHOPIFY, currency="EUR"
    )


@pytest.fixture
def phone_page(live_server, login, browser_admin):
    def open_at(path):
        page = login("browseradmin", "browser-pw")
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        page.goto(f"{live_server.url}{path}")
        return page

    return open_at


def checked_job(user, account, name, content):
    job = jobs.create_job(user, account, "generic", SimpleUploadedFile(name, content))
    jobs.run_phase(job.pk, jobs.CHECK)
    return job


MIXED = (
    b"order_id,placed_at,customer_email,currency,order_total,country\n"
    b"1,2024-03-01,a@example.com,EUR,10.00,Germany\n"
    b"2,2024-03-04,b@example.com,USD,20.00,Neverland-on-Sea Principality\n"
    b"3,2024-03-05,c@example.com,XYZ,30.00,DE\n"
)
BROKEN = b"order_id,placed_at,customer_email\n1,2024-01-01,a@example.com\n2,soon,b@example.com\n3,2024-01-01,\n"


# version_neutral: the plugin's own form layout; the import test uploads through the same screen at the floors.
@pytest.mark.version_neutral
def test_the_import_screen_fits_a_phone(phone_page, browser_admin, eur_account, axe_script):
    checked_job(browser_admin, eur_account, "orders-export-2024-03-berliner-buchhandlung.csv", MIXED)
    checked_job(browser_admin, eur_account, "broken.csv", BROKEN)
    page = phone_page("/admin/customers/import/")
    assert page.get_by_label("File layout").is_visible() and page.get_by_label("Text encoding").is_visible()
    found = assert_nothing_out_of_reach(page)
    assert {select["name"] for select in found["selects"]} >= {"account", "format", "encoding"}
    # The recent imports' State column is reachable: its box scrolls to it.
    recent = page.get_by_role("region", name="Your recent imports")
    state = recent.get_by_role("columnheader", name="State")
    recent.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    right = state.evaluate("el => el.getBoundingClientRect().right")
    assert right <= PHONE[0] + 0.5
    assert run_axe(page, axe_script) == []


# version_neutral: the plugin's own preview layout; the import test confirms a preview at the floors.
@pytest.mark.version_neutral
def test_a_jobs_preview_fits_a_phone(phone_page, browser_admin, eur_account, axe_script):
    job = checked_job(browser_admin, eur_account, "mixed.csv", MIXED)
    page = phone_page(f"/admin/customers/import/{job.pk}/")
    assert page.get_by_role("table", name="Currencies").is_visible()
    assert page.locator("[data-wc-unrecognised-countries]").is_visible()
    assert_nothing_out_of_reach(page)
    # The Currencies table's last header cell can be scrolled into the window.
    header = page.get_by_role("table", name="Currencies").get_by_role("columnheader").last
    header.scroll_into_view_if_needed()
    edges = header.evaluate("el => { const r = el.getBoundingClientRect(); return [r.left, r.right]; }")
    assert edges[0] >= -0.5 and edges[1] <= PHONE[0] + 0.5
    assert run_axe(page, axe_script) == []


# At the floors the preview's test drives the same job page, its tables in the same boxes.
@pytest.mark.version_neutral
def test_a_jobs_error_list_fits_a_phone(phone_page, browser_admin, eur_account):
    job = checked_job(browser_admin, eur_account, "broken.csv", BROKEN)
    page = phone_page(f"/admin/customers/import/{job.pk}/")
    assert page.get_by_role("table", name="Errors").is_visible()
    assert_nothing_out_of_reach(page)
