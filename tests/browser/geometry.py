"""Where an element is drawn, as the browser measures it."""


def box(locator):
    """The element's box in the window's coordinates (CSS pixels)."""
    return locator.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"
    )
