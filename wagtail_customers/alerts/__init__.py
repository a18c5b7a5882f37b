"""Alerts about watched customers (docs/howto/alerts.md): detected from ``orders_recorded`` (``detection``),
sent to the users who watch the seller account (``recipients``), listed in the admin (``views/alerts``) and
e-mailed as digests (``digests``, ``tasks``); each user chooses in their account settings (``preferences``)."""
