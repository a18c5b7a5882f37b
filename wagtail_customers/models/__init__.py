"""The public ledger models. Field-by-field documentation: docs/reference/models.md."""

from .access import AccessGrant, ListingPreference, WatchlistEntry
from .accounts import Channel, SellerAccount
from .alerts import AlertEvent, AlertKind, AlertNotification, AlertPreference, EmailFrequency
from .connections import ChannelConnection, ConnectionState, SyncKind, SyncOutcome, SyncRun, WebhookDelivery
from .customers import Customer
from .insight import CustomerScore, FitStatus, LifetimeValueFit, RfmGroup
from .jobs import ExportJob, ImportJob, JobState
from .merges import CustomerAlias, CustomerMerge
from .orders import (
    EventKind,
    Feedback,
    FulfilmentStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PromoCodeUsage,
    RateSource,
    SyncStatus,
)
from .retention import RetentionBasis, RetentionRule, RetentionRun
from .saved_views import SavedView, SavedViewVisibility
from .summary import ListingSummary, SummarySegment
from .watchlist_rules import (
    WatchlistDismissal,
    WatchlistMetric,
    WatchlistOperator,
    WatchlistRule,
    WatchlistRuleCondition,
)

__all__ = [
    "AccessGrant",
    "AlertEvent",
    "AlertKind",
    "AlertNotification",
    "AlertPreference",
    "Channel",
    "ChannelConnection",
    "ConnectionState",
    "Customer",
    "CustomerAlias",
    "CustomerMerge",
    "CustomerScore",
    "EmailFrequency",
    "EventKind",
    "ExportJob",
    "FitStatus",
    "ImportJob",
    "JobState",
    "LifetimeValueFit",
    "Feedback",
    "FulfilmentStatus",
    "ListingPreference",
    "ListingSummary",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "PromoCodeUsage",
    "RateSource",
    "RetentionBasis",
    "RetentionRule",
    "RetentionRun",
    "RfmGroup",
    "SavedView",
    "SavedViewVisibility",
    "SellerAccount",
    "SummarySegment",
    "SyncKind",
    "SyncOutcome",
    "SyncRun",
    "SyncStatus",
    "WatchlistDismissal",
    "WatchlistEntry",
    "WatchlistMetric",
    "WatchlistOperator",
    "WatchlistRule",
    "WatchlistRuleCondition",
    "WebhookDelivery",
]
