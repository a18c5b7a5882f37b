"""Customers' entries in Wagtail's history are labelled by id, never by name.

Wagtail labels each log entry with ``str(instance)`` when it is written, and shows that label in the
site history report and the object's history to everyone who may see the model's history; it keeps it
after the customer is erased. A customer's name or e-mail there would reach users without "See personal
data" (services/personal_data.py) and outlive an erasure (services/erasure.py). So every new entry about
a customer or a watchlist entry is labelled "Customer #<id>" / "Watchlist entry #<id>", whoever logs it
(the plugin's services, or Wagtail's own snippet views).
"""

from django.db.models.signals import pre_save


def customer_history_label(customer_id):
    """The label a customer has with nothing personal known (models.customers.customer_label)."""
    from .models.customers import customer_label

    return str(customer_label("", "", "", "", customer_id))


def customer_history_label_expression(object_id_field):
    """``customer_history_label`` of the id in ``object_id_field``, as a database expression: relabels the entries
    of many customers in one update."""
    from django.db.models import Value
    from django.db.models.functions import Concat

    # The label's text around the id, in the active language ("Customer #" and "").
    before, _mark, after = customer_history_label(ID_MARK).partition(ID_MARK)
    return Concat(Value(before), object_id_field, Value(after))


#: Stands for the id in ``customer_history_label_expression``: no translation contains it.
ID_MARK = "\x00"


def _neutral_label(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is not None or not instance.content_type_id:
        return
    from .models import Customer, WatchlistEntry

    model = instance.content_type.model_class()
    if model is Customer:
        instance.label = customer_history_label(instance.object_id)
    elif model is WatchlistEntry:
        instance.label = f"Watchlist entry #{instance.object_id}"


def connect():
    from wagtail.models import ModelLogEntry

    pre_save.connect(_neutral_label, sender=ModelLogEntry, dispatch_uid="wagtail_customers:history_labels")
