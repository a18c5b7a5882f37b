from walk import *
with sync_playwright() as p:
    w = Walk(p); pg = w.page
    w.login("kollege")
    print(pg.url)
    pg.goto(BASE+"/admin/customers/"); pg.wait_for_load_state("networkidle"); w.errors.clear()
    w.shot("38-kollege-listing", full=False)
    t=pg.inner_text("main"); print(t[:1500])
    pg.focus("summary:has-text('Saved views')"); pg.keyboard.press("Enter"); pg.wait_for_timeout(800)
    print(pg.evaluate("() => document.querySelector('details[open]').innerText"))
    link = pg.query_selector("details[open] nav a:has-text('Große')")
    if link:
        link.focus()
        with pg.expect_navigation(): pg.keyboard.press("Enter")
        pg.wait_for_load_state("networkidle")
        print(pg.url); t=pg.inner_text("main"); print(t[:2500])
        w.shot("38-kollege-view", full=False)
    w.flush()
    w.close()
