"""Where an element is drawn, as the browser measures it."""


def box(locator):
    """The element's box in the window's coordinates (CSS pixels)."""
    return locator.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"
    )


def settled(locator):
    """Wait for the element's animations and transitions, its descendants' too (the bulk bar slides in), to end."""
    locator.evaluate("el => Promise.all(el.getAnimations({subtree: true}).map(a => a.finished))")
