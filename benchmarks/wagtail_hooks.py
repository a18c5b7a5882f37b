"""Registers the A0 baseline and shell viewsets; loaded only by benchmarks/settings.py (never by the plugin)."""

from wagtail import hooks

from .baselines import naive_customer_viewset, shell_viewset


@hooks.register("register_admin_viewset")
def register_naive_customer_viewset():
    return naive_customer_viewset


@hooks.register("register_admin_viewset")
def register_shell_viewset():
    return shell_viewset
