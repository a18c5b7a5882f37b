"""The export screens (namespace ``wagtail_customers_exports``): start, the Exports page, status, download."""
