"""Re-encrypt every connection's credentials with the first key of CREDENTIALS_KEYS (key rotation)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ...credentials import CredentialsUnreadable, rotate_credentials
from ...models import ChannelConnection


def described(connections):
    return ", ".join(f"{connection.pk} ({connection.account.name})" for connection in connections)


class Command(BaseCommand):
    help = "Re-encrypt the stored channel credentials with the first key of WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS']."

    def handle(self, *args, **options):
        rotated, unreadable = 0, []
        with transaction.atomic():
            connections = (
                ChannelConnection.objects.select_for_update()
                .exclude(encrypted_credentials="")
                .select_related("account")
                .order_by("pk")
            )
            for connection in connections:
                try:
                    connection.encrypted_credentials = rotate_credentials(connection.encrypted_credentials)
                except (ImproperlyConfigured, ValueError) as error:
                    # No key, or one that is not a Fernet key: no connection can be read, so none is changed.
                    raise CommandError(
                        f"{error} The credentials of connection(s) {described(connections)} cannot be read; "
                        "nothing was re-encrypted."
                    ) from None
                except CredentialsUnreadable:
                    # Encrypted with a key no longer in the list: left as it is, so that putting that key back
                    # and running again still rotates it; the readable ones need not wait for it.
                    unreadable.append(connection)
                    continue
                connection.save(update_fields=["encrypted_credentials"])
                rotated += 1
        self.stdout.write(f"Re-encrypted the credentials of {rotated} connection(s).")
        if unreadable:
            raise CommandError(
                f"The credentials of connection(s) {described(unreadable)} do not decrypt with any key in "
                "WAGTAIL_CUSTOMERS['CREDENTIALS_KEYS'] and were left as they were: put back the key they were "
                "encrypted with (after the new one) and run this command again, or enter their credentials again "
                "in their connection's form. Keep the old keys until this command reports no such connection."
            )
