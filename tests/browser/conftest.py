"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (``make test`` installs it).
Screenshots for the docs go to docs/_static/screenshots/ when the tests run on the Wagtail the docs show (8);
on an older one (`make test-lowest`, tox's wagtail70/74 envs) to a temporary folder, so those runs never
replace the docs' pictures with another admin's look.
"""

import os
import shutil
import subprocess
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

from wagtail_customers.compat import WAGTAIL_8_OR_LATER


class SerialWSGIServer(WSGIServer):
    """The live server, one request at a time. On SQLite's in-memory test database every request thread shares
    the test's one connection (``connections_override``), and the listing's pages fetch two fragments as soon as
    they load (the statistics band, the country choices): served at once, two requests on that connection fail
    ("bad parameter or other API misuse") and the page's next request loses its session. Served in turn they
    cannot; the browser waits a moment, as it would for a busy server (Django closes each connection here)."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


LiveServerThread.server_class = SerialWSGIServer

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("WC_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"
AXE_PACKAGE = Path(__file__).resolve().parent / "axe"
AXE_SCRIPT = AXE_PACKAGE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test` (it installs Debian's chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_for_served_requests(server_url):
    """Return once the live server has served every request the closed browser context sent it.

    The server takes connections one at a time, in the order they came (``SerialWSGIServer``), so the answer to
    one more request made here comes after all of them. Without this, a request the page sent just before the
    test ended (a fragment, a toggle) was still running on the test's one SQLite connection while pytest-django
    emptied the tables, and the next test found the last one's rows (a CI run failed on a duplicate user)."""
    try:
        urllib.request.urlopen(f"{server_url}/admin/login/", timeout=60).close()
    except urllib.error.HTTPError:
        pass  # answered, which is all this waits for
    except OSError as error:
        warnings.warn(f"The live server did not answer after the test ({error})", stacklevel=2)


@pytest.fixture(scope="session")
def shared_context(browser):
    """One browser context for the session's tests, for its HTTP cache: each test's first page took about 1 s in a
    context of its own, most of it the same 34 static files asked of the live server again. What else a context
    keeps (cookies, local and session storage) is cleared after each test (``page``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    yield context
    context.close()


def forget_everything_but_the_cache(context, origin):
    context.clear_cookies()
    context.clear_permissions()
    if origin is not None:
        session = context.new_cdp_session(context.pages[0]) if context.pages else None
        if session is not None:
            session.send(
                "Storage.clearDataForOrigin",
                {"origin": origin, "storageTypes": "local_storage,session_storage,indexeddb,websql,service_workers"},
            )
            session.detach()


@pytest.fixture
def page(shared_context, request):
    # Set up before the page, so torn down after it: see wait_for_served_requests.
    server = request.getfixturevalue("live_server") if "live_server" in request.fixturenames else None
    page = shared_context.new_page()
    page.set_default_timeout(15_000)
    yield page
    forget_everything_but_the_cache(shared_context, server.url if server is not None else None)
    for opened in list(shared_context.pages):
        opened.close()
    if server is not None:
        wait_for_served_requests(server.url)


@pytest.fixture
def login_through_the_form(live_server, page, wagtail_page_tree):
    """``login_through_the_form(user, password)``: log in through Wagtail's login form, as a seller does (the
    tutorial's and the smoke test's path); returns the page, on the dashboard."""

    def do_login(username, password):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/**")
        return page

    return do_login


@pytest.fixture
def login(live_server, page, wagtail_page_tree):
    """``login(user, password)``: signed in with the user's password, as the form signs in, and the session's
    cookie given to the page; returns the page, on no URL yet. About 1 s less a test than the form and the
    dashboard it opens, which ``login_through_the_form`` drives."""

    def do_login(username, password):
        from django.conf import settings
        from django.test import Client

        client = Client()
        assert client.login(username=username, password=password), f"{username} cannot sign in with {password!r}"
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        return page

    return do_login


@pytest.fixture
def browser_admin(db):
    """A superuser with a known password for browser logins."""
    return get_user_model().objects.create_superuser("browseradmin", "browseradmin@example.com", "browser-pw")


@pytest.fixture
def screenshot(tmp_path):
    """``screenshot(page, name)`` saves a PNG for the docs (on an older Wagtail, in the test's temporary folder)."""
    folder = SCREENSHOTS if WAGTAIL_8_OR_LATER else tmp_path / "screenshots"

    def take(page, name):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return take


@pytest.fixture(scope="session")
def axe_script():
    """The path of axe-core's script (the npm package pinned in tests/browser/axe/package-lock.json)."""
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is not installed and npm is missing: run `npm ci --prefix tests/browser/axe`.")
        subprocess.run([npm, "ci", "--prefix", str(AXE_PACKAGE), "--no-audit", "--no-fund"], check=True)
    return AXE_SCRIPT
