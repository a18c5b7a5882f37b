"""Every branch on the Wagtail version lives here, so the rest of the code reads as one version."""

from wagtail import VERSION as WAGTAIL_VERSION

WAGTAIL_8_OR_LATER = WAGTAIL_VERSION >= (8, 0)

#: Wagtail 7.1 replaced the ``data-tabs`` script with the ``w-tabs`` Stimulus controller.
STIMULUS_TABS = WAGTAIL_VERSION >= (7, 1)

#: Wagtail 7.0 renders a ``ButtonWithDropdown`` with the page listing's template: no attributes on the
#: wrapper, items as bare links; later versions have a shared one (``views/listing/cells.py`` builds both).
WAGTAIL_7_0_DROPDOWN_TEMPLATE = "wagtailadmin/pages/listing/_button_with_dropdown.html"

#: The part of a generic listing's results above the table (active filter chips, the filters drawer and header
#: buttons teleported in on a refresh): its own template since Wagtail 7.1 (``{% include %}`` takes the first
#: that exists); Wagtail 7.0 writes it inline, so the plugin keeps a copy of 7.0's markup for 7.0.
FILTER_PARTIALS_TEMPLATES = (
    "wagtailadmin/shared/listing/filter_partials.html",
    "wagtail_customers/listing/_filter_partials_wagtail70.html",
)


#: The tab link template. Wagtail 7.0's tabs open, without an anchor in the URL, the tab whose link says
#: ``aria-selected="true"``, but its own template always writes "false" (``active`` is documented, not read): its
#: copy here writes "true" on the link of the context's ``active_tab``. From 7.1 ``tabs_attrs`` names the tab.
TAB_NAV_LINK_TEMPLATE = (
    "wagtailadmin/shared/tabs/tab_nav_link.html" if STIMULUS_TABS else "wagtail_customers/compat/tab_nav_link_70.html"
)


def tabs_attrs(active_panel_id):
    """Attributes of a ``w-tabs`` container (around ``wagtailadmin/shared/tabs/tab_nav_link.html`` links).

    Both versions open the tab named in the URL's ``#tab-…`` anchor; Wagtail 7.1+ otherwise opens
    ``active_panel_id``, Wagtail 7.0 the tab whose link is selected (``TAB_NAV_LINK_TEMPLATE``).
    """
    if STIMULUS_TABS:
        return {
            "data-controller": "w-tabs",
            "data-action": "popstate@window->w-tabs#select",
            "data-w-tabs-use-location-value": "true",
            "data-w-tabs-active-panel-id-value": active_panel_id,
        }
    return {"data-tabs": ""}


# --- Permission policies ----------------------------------------------------------------------
# Wagtail 8 keeps one policy per model in ``wagtail.permissions.policy_registry``; its generic views,
# snippets and bulk actions look the policy up there. Wagtail 7 has no registry: each ModelViewSet /
# SnippetViewSet builds a ``ModelPermissionPolicy`` in its ``permission_policy`` property and hands it
# to its views, so the plugin's viewsets override that property (``PermissionPolicyViewSetMixin``).

_wagtail7_policies = {}

if WAGTAIL_8_OR_LATER:
    from wagtail.permissions import policy_registry
    from wagtail.permissions import register_permission_policy as _wagtail_register_permission_policy

    def register_permission_policy(model, policy):
        """Register ``policy`` for ``model`` (once; later calls with the same policy do nothing)."""
        if policy_registry.get_by_type(model, fallback=False) is policy:
            return
        _wagtail_register_permission_policy(model, policy, exact_class=True)

    def get_permission_policy(model):
        return policy_registry.get_by_type(model)

    class PermissionPolicyViewSetMixin:
        """Wagtail 8 viewsets find the registered policy themselves."""

else:
    from wagtail.permission_policies import ModelPermissionPolicy

    def register_permission_policy(model, policy):
        """Register ``policy`` for ``model``; the plugin's viewsets read it through the mixin below."""
        _wagtail7_policies[model] = policy

    def get_permission_policy(model):
        return _wagtail7_policies.get(model) or ModelPermissionPolicy(model)

    class PermissionPolicyViewSetMixin:
        """Make a Wagtail 7 ModelViewSet / SnippetViewSet (and so its views) use the registered policy."""

        @property
        def permission_policy(self):
            return get_permission_policy(self.model)
