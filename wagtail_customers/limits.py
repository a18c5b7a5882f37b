"""What the plugin's columns hold: every check of an amount or a count against a column uses these.

The money columns hold 14 digits, 2 after the point; the integer columns (quantities, ratings, a customer's
counts) PostgreSQL's ``integer``, the narrowest of the supported databases'.
"""

from decimal import Decimal, InvalidOperation

#: Amounts (rounded to cents) must stay below this.
MONEY_LIMIT = Decimal(10) ** 12
#: The largest whole number an integer column holds.
LARGEST_INTEGER = 2**31 - 1
#: What a channel's amount too large for arithmetic becomes: still far too large, so the ingestion service refuses
#: it naming the order, rather than overflowing the sums made on the way (``Decimal`` overflows above 1E+999999).
HUGE_AMOUNT = Decimal("1E+100")


def within_arithmetic(number):
    """``number`` (a finite ``Decimal``), or ``HUGE_AMOUNT`` with its sign when it is larger still."""
    return number if number.adjusted() < 100 else HUGE_AMOUNT.copy_sign(number)


def decimal_from_text(text):
    """The ``Decimal`` a text writes, or None when it writes no number. Unlike ``Decimal()``, "1_234" is no number:
    Python reads it as 1234 (PEP 515), and neither a channel's amount nor a spreadsheet's cell ever means that."""
    if "_" in text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
