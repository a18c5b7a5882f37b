"""``get_FOO_display()`` on the models with ``ChoiceLabels`` answers what Django's own answers, in the active
language, for every choice, an unknown value and an empty one."""

import pytest
from django.db import models
from django.utils import translation

from wagtail_customers.models import Channel, CustomerScore, Order, OrderEvent, RfmGroup, SellerAccount
from wagtail_customers.models.choice_labels import ChoiceLabels
from wagtail_customers.models.orders import EventKind, FulfilmentStatus, OrderStatus, RateSource, SyncStatus

FIELDS = [
    (Order, "status", OrderStatus),
    (Order, "fulfilment_status", FulfilmentStatus),
    (Order, "sync_status", SyncStatus),
    (Order, "channel", Channel),
    (Order, "rate_source", RateSource),
    (OrderEvent, "kind", EventKind),
    (SellerAccount, "channel", Channel),
    (CustomerScore, "rfm_group", RfmGroup),
]


def djangos_own(instance, name):
    return models.Model._get_FIELD_display(instance, instance._meta.get_field(name))


@pytest.mark.parametrize(("model", "name", "choices"), FIELDS)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_choice_shows_what_django_shows(model, name, choices, language):
    # get_FOO_display is the mixin's method, not Django's (the mixin before models.Model in the bases).
    assert model.__dict__[f"get_{name}_display"].func is ChoiceLabels._get_FIELD_display
    instance = model()
    display = getattr(instance, f"get_{name}_display")
    with translation.override(language):
        for value in [*choices.values, "no-such-value", ""]:
            setattr(instance, name, value)
            assert display() == djangos_own(instance, name)
            assert type(display()) is str


def test_the_label_follows_the_active_language():
    order = Order(status=OrderStatus.CANCELLED)
    assert order.get_status_display() == "Cancelled"
    with translation.override("fr"):
        # Wagtail's French catalogue has "Cancelled": the label is translated per call, never kept in one language.
        assert order.get_status_display() == "Annulé"
    assert order.get_status_display() == "Cancelled"


def test_a_missing_value_shows_as_none_as_in_django():
    score = CustomerScore(rfm_group=None)
    assert score.get_rfm_group_display() == djangos_own(score, "rfm_group")


def test_choices_given_as_a_callable_are_read_on_every_call():
    options = [("a", "A")]
    field = models.CharField(choices=lambda: list(options))
    field.set_attributes_from_name("letter")
    order = Order()
    order.letter = "b"
    assert ChoiceLabels._get_FIELD_display(order, field) == "b"
    options.append(("b", "Bee"))
    assert ChoiceLabels._get_FIELD_display(order, field) == "Bee"
