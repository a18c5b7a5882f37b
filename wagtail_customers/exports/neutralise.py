"""Spreadsheet formula injection (CWE-1236): text that a spreadsheet would run as a formula.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or NUL gets a
leading ``'`` so Excel, LibreOffice and Google Sheets show it as text. Only text is touched: numbers
are written as numbers by the writers and never reach this function.
"""

#: The first characters that make a spreadsheet read a cell as a formula (OWASP's list, plus NUL).
FORMULA_TRIGGERS = frozenset(("=", "+", "-", "@", "\t", "\r", "\0"))


def neutralise(text):
    """``text`` with a leading ``'`` when it would start a formula; other text unchanged."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text
