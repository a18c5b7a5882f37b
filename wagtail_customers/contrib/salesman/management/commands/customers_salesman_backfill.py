"""``manage.py customers_salesman_backfill [--since DATE]``: record the salesman orders placed before."""

from ....shops import BackfillCommand
from ... import adapter


class Command(BackfillCommand):
    help = "Record every django-salesman order in the seller account SALESMAN_SELLER_ACCOUNT names."
    adapter = adapter
    date_field = "date_created"
    select_related = ("user",)
    prefetch_related = ("items", "payments")
