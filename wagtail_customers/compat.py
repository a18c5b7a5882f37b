"""Every branch on the Wagtail version lives here, so the rest of the code reads as one version."""

from wagtail import VERSION as WAGTAIL_VERSION

WAGTAIL_8_OR_LATER = WAGTAIL_VERSION >= (8, 0)


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
