from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WagtailCustomersConfig(AppConfig):
    name = "wagtail_customers"
    label = "wagtail_customers"
    verbose_name = _("Customers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, checks_site  # noqa: F401  (register the system checks)
        from .alerts.detection import connect as connect_alerts
        from .customer_search import register_sqlite_lower
        from .file_cleanup import connect as connect_file_cleanup
        from .history_labels import connect as label_history_by_id
        from .permission_policies import register_permission_policies
        from .services.deletion import connect as scrub_history_of_deleted_accounts
        from .services.personal_data import connect as refuse_saving_masked_instances
        from .watchlist_rules.receivers import connect as apply_watchlist_rules_on_orders

        # Before any Wagtail viewset or snippet asks for these models' policies.
        register_permission_policies()
        # Import and export files are deleted as soon as they may no longer be used.
        connect_file_cleanup()
        # A customer or order masked for display can never overwrite the real personal data.
        refuse_saving_masked_instances()
        # Wagtail's history names customers by id: no name reaches the site history or outlives an erasure.
        label_history_by_id()
        # A seller account deleted, by the admin or by a site's code, takes its customers' names out of the history.
        scrub_history_of_deleted_accounts()
        # Alerts about watched customers, from each batch of orders recorded (docs/howto/alerts.md).
        connect_alerts()
        # Watchlist rules run on the customers of each batch of orders recorded.
        apply_watchlist_rules_on_orders()
        # The search's case folding beyond ASCII on SQLite (customer_search.TextContains).
        connection_created.connect(register_sqlite_lower, dispatch_uid="wagtail_customers.sqlite_lower")
        # The listing summary's triggers: SQLite drops them when a migration remakes the customers' table,
        # and ``flush`` empties the tables in any order; recreate them and rebuild the summary after both.
        post_migrate.connect(_ensure_listing_summary, sender=self)
        # The watched flag's triggers, for the same reasons, and any flag gone wrong (services/watched_flag.py).
        post_migrate.connect(_ensure_watched_flag, sender=self)
        # The search index's triggers on SQLite, for the same reasons (services/search_index.py).
        post_migrate.connect(_ensure_search_index, sender=self)
        # SQLite's planner statistics, after a migration that may have added an index (planner_statistics.py).
        post_migrate.connect(_refresh_planner_statistics, sender=self)


def _ensure_search_index(sender, using=None, **kwargs):
    from .services.search_index import ensure_search_index

    ensure_search_index(using)


def _refresh_planner_statistics(sender, **kwargs):
    from .planner_statistics import refresh_after_migrate

    refresh_after_migrate(sender, **kwargs)


def _ensure_listing_summary(sender, using=None, **kwargs):
    from .services.listing_summary import ensure_triggers

    ensure_triggers(using)


def _ensure_watched_flag(sender, using=None, **kwargs):
    from .services.watched_flag import ensure_watched_flag

    ensure_watched_flag(using)
