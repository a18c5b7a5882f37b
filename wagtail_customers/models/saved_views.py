"""Saved views: a named tab, search, filters, sort and columns of the Customers listing.

A view stores the listing's query parameters (an allow-list, ``saved_views.py``) and column names, never
customers or a scope of its own: opening it runs the normal listing with the viewer's own grants, so a
shared view never shows anyone more than they may already see.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


def saved_view_name_key(name):
    """What two of one owner's view names must not share: the name trimmed and case-folded ("VIP", " vip " and
    "Vip" are one; "Öffentlich" and "ÖFFENTLICH" too, which SQLite's ASCII-only ``lower()`` would miss)."""
    return (name or "").strip().casefold()


class SavedViewVisibility(models.TextChoices):
    PRIVATE = "private", _("Only me")
    SHARED = "shared", _("Shared with chosen users and groups")


class SavedView(models.Model):
    """One user's named listing state; private, or shared with chosen users and groups (who may only open it)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_saved_views",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=120)
    #: ``saved_view_name_key(name)``, set on each save: unique per owner (a constraint, so two "Save view" posts at
    #: once cannot both pass the form's check). Up to three times the name's length: case folding may lengthen it.
    name_key = models.CharField(max_length=360, editable=False, default="")
    #: The listing tab's slug (``listing.TABS``).
    tab = models.CharField(_("tab"), max_length=40, default="all")
    #: ``{parameter: [values]}``: search, ordering, filters and seller accounts (allow-listed when saved).
    params = models.JSONField(_("listing parameters"), default=dict, blank=True)
    #: Column names in display order; empty means the viewer's own column view.
    columns = models.JSONField(_("columns"), default=list, blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=SavedViewVisibility.choices, default=SavedViewVisibility.PRIVATE
    )
    shared_with_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="customer_saved_views_shared",
        verbose_name=_("shared with users"),
    )
    shared_with_groups = models.ManyToManyField(
        Group, blank=True, related_name="customer_saved_views_shared", verbose_name=_("shared with groups")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name_key"], name="wc_saved_view_owner_name_key"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = saved_view_name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    @property
    def is_shared(self):
        return self.visibility == SavedViewVisibility.SHARED
