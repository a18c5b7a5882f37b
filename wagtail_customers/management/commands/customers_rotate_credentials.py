"""Re-encrypt every connection's credentials with the first key of CREDENTIALS_KEYS (key rotation)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from ...credentials import rotate_credentials
from ...models import ChannelConnection


class Command(BaseCommand):
    help = "Re-encrypt the stored channel credentials with the first key of WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS']."

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for connection in ChannelConnection.objects.select_for_update().exclude(encrypted_credentials=""):
                connection.encrypted_credentials = rotate_credentials(connection.encrypted_credentials)
                connection.save(update_fields=["encrypted_credentials"])
                rotated += 1
        self.stdout.write(f"Re-encrypted the credentials of {rotated} connection(s).")
