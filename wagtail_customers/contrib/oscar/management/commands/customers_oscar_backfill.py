"""``manage.py customers_oscar_backfill [--since DATE]``: record the Oscar orders placed before."""

from ....shops import BackfillCommand
from ... import adapter


class Command(BackfillCommand):
    help = "Record every django-oscar order in the seller account OSCAR_SELLER_ACCOUNT names."
    adapter = adapter
    date_field = "date_placed"
    select_related = ("user", "shipping_address")
    prefetch_related = ("lines__stockrecord", "discounts", "sources__transactions", "status_changes")
