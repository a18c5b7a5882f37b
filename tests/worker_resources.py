"""Resources the worker tests give the Celery worker process (through ``EXPORT_RESOURCE``)."""

import time

from wagtail_customers.exports.resources import CustomerResource


class SlowCustomerResource(CustomerResource):
    """Takes a few milliseconds per row, so a test can stop the worker in the middle of an export."""

    def dehydrate_address(self, row):
        time.sleep(0.02)
        return super().dehydrate_address(row)
