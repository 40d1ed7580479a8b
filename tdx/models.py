"""The TDX payload models, in one import place."""

from __future__ import annotations

from .fields import EMPTY_GUID, TdxDateTime, TdxModel, TdxRequestModel, TdxUid
from .models_assets import Asset, CmdbRelationship, ConfigurationItem
from .models_common import AttributeChoice, CustomAttribute, ResourceItem
from .models_feed import FeedItem, FeedReply, TicketFeedEntry
from .models_people import Person
from .models_reports import DisplayedColumn, Report, ReportSortColumn
from .models_tickets import PatchOperation, Ticket, TicketStatus
from .searches import (
    AssetSearch,
    ConfigurationItemSearch,
    CustomAttributeFilter,
    PersonSearch,
    TicketSearch,
)

__all__ = [
    "EMPTY_GUID",
    "Asset",
    "AssetSearch",
    "AttributeChoice",
    "CmdbRelationship",
    "ConfigurationItem",
    "ConfigurationItemSearch",
    "CustomAttribute",
    "CustomAttributeFilter",
    "DisplayedColumn",
    "FeedItem",
    "FeedReply",
    "PatchOperation",
    "Person",
    "PersonSearch",
    "Report",
    "ReportSortColumn",
    "ResourceItem",
    "TdxDateTime",
    "TdxModel",
    "TdxRequestModel",
    "TdxUid",
    "Ticket",
    "TicketFeedEntry",
    "TicketSearch",
    "TicketStatus",
]
