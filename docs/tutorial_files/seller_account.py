from wagtail_customers.models import Channel, SellerAccount

SellerAccount.objects.get_or_create(name="My shop", defaults={"channel": Channel.WEBSITE, "currency": "GBP"})
