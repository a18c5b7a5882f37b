"""wagtail-customers: a Customers Manager for online sellers inside the Wagtail admin."""

__version__ = "0.1.0"
