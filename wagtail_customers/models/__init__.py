"""The public ledger models. Field-by-field documentation: docs/reference/models.md."""

from .access import AccessGrant, ListingPreference, WatchlistEntry
from .accounts import Channel, SellerAccount
from .customers import Customer
from .jobs import ExportJob, ImportJob, JobState
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

__all__ = [
    "AccessGrant",
    "Channel",
    "Customer",
    "EventKind",
    "ExportJob",
    "ImportJob",
    "JobState",
    "Feedback",
    "FulfilmentStatus",
    "ListingPreference",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "PromoCodeUsage",
    "RateSource",
    "RetentionBasis",
    "RetentionRule",
    "RetentionRun",
    "SellerAccount",
    "SyncStatus",
    "WatchlistEntry",
]
