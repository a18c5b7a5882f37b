from django.core.management.base import CommandError

from ...models import SellerAccount


def account_by_name(name):
    try:
        return SellerAccount.objects.get(name=name)
    except SellerAccount.DoesNotExist:
        known = ", ".join(SellerAccount.objects.values_list("name", flat=True)) or "none yet"
        raise CommandError(f"No seller account named {name!r} (known: {known}).") from None
