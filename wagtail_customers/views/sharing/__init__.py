"""The Share access screen (namespace ``wagtail_customers_sharing``, under /admin/customers/sharing/)."""
