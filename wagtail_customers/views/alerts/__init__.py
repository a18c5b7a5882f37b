"""The user's alerts about watched customers: the list with mark read / mark all read (docs/howto/alerts.md)."""
