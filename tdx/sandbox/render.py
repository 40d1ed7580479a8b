"""Sandbox records rendered as TDX payloads (field names and shapes as in TDX's API)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .auth import SANDBOX_BEID
from .dates import EMPTY_UID, tdx_date, tdx_date_or_null
from .store import TenantStore
from .tenant import (
    Asset,
    ConfigurationItem,
    FeedEntry,
    Person,
    Relationship,
    Report,
    Ticket,
    TicketStatus,
)

Json = dict[str, Any]

CLASSIFICATION_NAMES = {
    9: "Ticket",
    32: "Incident",
    33: "Problem",
    34: "Change",
    35: "Release",
    46: "Service Request",
    77: "Major Incident",
}
BACKING_ITEM_ASSET = 27

# Ticket fields a search row leaves out ("will not include full ticket information").
SEARCH_OMITS = ("Description", "Attributes", "Attachments", "Tasks", "Notify")


def _person_name(store: TenantStore, uid: str | None) -> str:
    person = store.person(uid)
    return person.full_name if person else ""


def _person_email(store: TenantStore, uid: str | None) -> str:
    person = store.person(uid)
    return person.email if person else ""


def ticket(store: TenantStore, t: Ticket, now: datetime) -> Json:
    s = store.settings
    status = store.status(t.status_id)
    requestor = store.person(t.requestor_uid)
    on_hold = status is not None and status.status_class == 5
    return {
        "ID": t.id,
        "ParentID": 0,
        "ParentTitle": "",
        "ParentClass": 0,
        "TypeID": t.type_id,
        "TypeName": store.name("ticket_type", t.type_id),
        "TypeCategoryID": 101,
        "TypeCategoryName": "Support",
        "Classification": t.classification,
        "ClassificationName": CLASSIFICATION_NAMES.get(t.classification, ""),
        "FormID": t.form_id,
        "FormName": store.name("ticket_form", t.form_id),
        "Title": t.title,
        "Description": t.description,
        "IsRichHtml": t.is_rich_html,
        "Uri": f"api/{t.app_id}/tickets/{t.id}",
        "AccountID": t.account_id,
        "AccountName": store.name("department", t.account_id),
        "SourceID": t.source_id,
        "SourceName": store.name("source", t.source_id),
        "StatusID": t.status_id,
        "StatusName": status.name if status else "",
        "StatusClass": status.status_class if status else 0,
        "ImpactID": t.impact_id,
        "ImpactName": store.name("impact", t.impact_id),
        "UrgencyID": t.urgency_id,
        "UrgencyName": store.name("urgency", t.urgency_id),
        "PriorityID": t.priority_id,
        "PriorityName": store.name("priority", t.priority_id),
        "PriorityOrder": store.priority_order.get(t.priority_id, 0.0),
        "SlaID": 0,
        "SlaName": "",
        "IsSlaViolated": False,
        "IsSlaRespondByViolated": None,
        "IsSlaResolveByViolated": None,
        "RespondByDate": None,
        "ResolveByDate": None,
        "SlaBeginDate": None,
        "IsOnHold": on_hold,
        "PlacedOnHoldDate": tdx_date_or_null(t.modified) if on_hold else None,
        "GoesOffHoldDate": None,
        "CreatedDate": tdx_date(t.created),
        "CreatedUid": t.created_uid,
        "CreatedFullName": _person_name(store, t.created_uid),
        "CreatedEmail": _person_email(store, t.created_uid),
        "ModifiedDate": tdx_date(t.modified),
        "ModifiedUid": t.modified_uid,
        "ModifiedFullName": _person_name(store, t.modified_uid),
        "RequestorName": requestor.full_name if requestor else "",
        "RequestorFirstName": requestor.first_name if requestor else "",
        "RequestorLastName": requestor.last_name if requestor else "",
        "RequestorEmail": requestor.email if requestor else "",
        "RequestorPhone": requestor.phone if requestor else "",
        "RequestorUid": t.requestor_uid,
        "ActualMinutes": 0,
        "EstimatedMinutes": 0,
        "DaysOld": max(0, (now - t.created).days),
        "StartDate": None,
        "EndDate": None,
        "ResponsibleUid": t.responsible_uid,
        "ResponsibleFullName": _person_name(store, t.responsible_uid),
        "ResponsibleEmail": _person_email(store, t.responsible_uid),
        "ResponsibleGroupID": t.responsible_group_id,
        "ResponsibleGroupName": store.name("group", t.responsible_group_id),
        "RespondedDate": tdx_date(t.responded),
        "RespondedUid": t.responsible_uid if t.responded else EMPTY_UID,
        "RespondedFullName": _person_name(store, t.responsible_uid) if t.responded else "",
        "CompletedDate": tdx_date(t.completed),
        "CompletedUid": t.modified_uid if t.completed else EMPTY_UID,
        "CompletedFullName": _person_name(store, t.modified_uid) if t.completed else "",
        "ReviewerUid": None,
        "ReviewerFullName": "",
        "ReviewerEmail": "",
        "ReviewingGroupID": 0,
        "ReviewingGroupName": "",
        "TimeBudget": 0.0,
        "ExpensesBudget": 0.0,
        "TimeBudgetUsed": 0.0,
        "ExpensesBudgetUsed": 0.0,
        "IsConvertedToTask": False,
        "LocationID": t.location_id,
        "LocationName": store.name("location", t.location_id),
        "LocationRoomID": t.room_id,
        "LocationRoomName": store.name("room", t.room_id),
        "RefCode": "",
        "ServiceID": t.service_id,
        "ServiceName": store.name("service", t.service_id),
        "ServiceOfferingID": 0,
        "ServiceOfferingName": "",
        "ServiceCategoryID": 12,
        "ServiceCategoryName": "Hardware & Software",
        "ArticleID": 0,
        "ArticleSubject": "",
        "ArticleShortcutID": None,
        "AppID": t.app_id,
        "AppName": s.ticket_app_name,
        "WorkflowID": 0,
        "WorkflowConfigurationID": 0,
        "WorkflowName": None,
        "Attributes": [
            {
                "ID": a.id,
                "Name": a.name,
                "Order": 0,
                "Description": "",
                "SectionID": 0,
                "SectionName": None,
                "FieldType": "dropdown",
                "DataType": "String",
                "Choices": [],
                "IsRequired": False,
                "IsUpdatable": True,
                "Value": a.value,
                "ValueText": a.value_text,
                "ChoicesText": a.value_text,
                "AssociatedItemIDs": [0],
            }
            for a in t.attributes
        ],
        "Attachments": [],
        "Tasks": [],
        "Notify": [
            {
                "ItemRole": "Requestor, Creator",
                "Name": requestor.full_name if requestor else "",
                "Initials": "",
                "Value": requestor.email if requestor else "",
                "RefValue": 0,
                "ProfileImageFileName": "",
            }
        ],
    }


def ticket_row(store: TenantStore, t: Ticket, now: datetime) -> Json:
    full = ticket(store, t, now)
    for key in SEARCH_OMITS:
        del full[key]
    return full


def ticket_status(store: TenantStore, status: TicketStatus) -> Json:
    return {
        "ID": status.id,
        "AppID": store.settings.ticket_app_id,
        "AppName": store.settings.ticket_app_name,
        "Name": status.name,
        "Description": "",
        "Order": status.order,
        "StatusClass": status.status_class,
        "IsActive": True,
        "IsDefault": status.is_default,
        "RequireGoesOffHold": False,
        "DoNotReopen": False,
    }


def feed_entry(store: TenantStore, entry: FeedEntry, t: Ticket | None) -> Json:
    author = store.person(entry.created_uid)
    return {
        "ID": entry.id,
        "CreatedUid": entry.created_uid,
        "CreatedRefID": author.ref_id if author else 0,
        "CreatedFullName": author.full_name if author else "",
        "CreatedFirstName": author.first_name if author else "",
        "CreatedLastName": author.last_name if author else "",
        "CreatedByPicPath": None,
        "CreatedDate": tdx_date(entry.created),
        "LastUpdatedDate": tdx_date(entry.created),
        "ProjectID": 0,
        "ProjectName": "",
        "PlanID": 0,
        "PlanName": "",
        "ItemType": 9,
        "ItemID": entry.ticket_id,
        "ItemTitle": t.title if t else "",
        "ReferenceID": None,
        "Body": entry.body,
        "UpdateType": entry.update_type,
        "NotifiedList": ", ".join(entry.notified),
        "IsPrivate": entry.is_private,
        "IsCommunication": entry.is_communication,
        "IsParent": True,
        "Replies": [],
        "RepliesCount": 0,
        "Likes": [],
        "ILike": False,
        "LikesCount": 0,
        "Participants": [],
        "BreadcrumbsHtml": "",
        "HasAttachment": False,
        "Uri": f"api/feed/{entry.id}",
    }


def asset(store: TenantStore, a: Asset, *, summary: bool = False) -> Json:
    s = store.settings
    model = store.models_by_id.get(a.model_id)
    owner = store.person(a.owner_uid)
    payload: Json = {
        "ID": a.id,
        "AppID": s.asset_app_id,
        "AppName": s.asset_app_name,
        "FormID": a.form_id,
        "FormName": store.name("asset_form", a.form_id),
        "ProductModelID": a.model_id,
        "ProductModelName": model.name if model else "",
        "ManufacturerID": model.manufacturer_id if model else 0,
        "ManufacturerName": model.manufacturer_name if model else "",
        "SupplierID": 1031,
        "SupplierName": "CDW",
        "StatusID": a.status_id,
        "StatusName": store.name("asset_status", a.status_id),
        "LocationID": a.location_id,
        "LocationName": store.name("location", a.location_id) or "None",
        "LocationRoomID": a.room_id,
        "LocationRoomName": store.name("room", a.room_id) or "None",
        "Tag": a.tag,
        "SerialNumber": a.serial,
        "Name": a.name,
        "PurchaseCost": a.purchase_cost,
        "AcquisitionDate": tdx_date(a.acquired),
        "ExpectedReplacementDate": tdx_date(None),
        "RequestingCustomerID": EMPTY_UID,
        "RequestingCustomerName": "None",
        "RequestingDepartmentID": 0,
        "RequestingDepartmentName": "None",
        "OwningCustomerID": a.owner_uid or EMPTY_UID,
        "OwningCustomerName": owner.full_name if owner else "None",
        "OwningDepartmentID": a.department_id,
        "OwningDepartmentName": store.name("department", a.department_id),
        "ParentID": 0,
        "ParentSerialNumber": "",
        "ParentName": "",
        "ParentTag": None,
        "MaintenanceScheduleID": 0,
        "MaintenanceScheduleName": "None",
        "ConfigurationItemID": a.ci_id,
        "CreatedDate": tdx_date(a.created),
        "CreatedUid": EMPTY_UID,
        "CreatedFullName": "System",
        "ModifiedDate": tdx_date(a.modified),
        "ModifiedUid": EMPTY_UID,
        "ModifiedFullName": "System",
        "ExternalID": "",
        "ExternalSourceID": 0,
        "ExternalSourceName": "None",
    }
    if not summary:
        payload["Attributes"] = []
        payload["Attachments"] = []
    payload["Uri"] = f"api/{s.asset_app_id}/assets/{a.id}"
    return payload


def configuration_item(store: TenantStore, ci: ConfigurationItem) -> Json:
    s = store.settings
    owner = store.person(ci.owner_uid)
    return {
        "ID": ci.id,
        "AppID": s.asset_app_id,
        "AppName": s.asset_app_name,
        "FormID": ci.form_id,
        "FormName": store.name("ci_form", ci.form_id),
        "IsSystemMaintained": ci.is_system_maintained,
        "BackingItemID": ci.backing_item_id,
        "BackingItemType": ci.backing_item_type,
        "Name": ci.name,
        "TypeID": ci.type_id,
        "TypeName": store.name("ci_type", ci.type_id),
        "MaintenanceScheduleID": 0,
        "MaintenanceScheduleName": "",
        "OwnerUID": ci.owner_uid or EMPTY_UID,
        "OwnerFullName": owner.full_name if owner else "",
        "OwningDepartmentID": ci.department_id,
        "OwningDepartmentName": store.name("department", ci.department_id),
        "OwningGroupID": 0,
        "OwningGroupName": "",
        "LocationID": ci.location_id,
        "LocationName": store.name("location", ci.location_id),
        "LocationRoomID": 0,
        "LocationRoomName": "",
        "IsActive": ci.is_active,
        "CreatedDateUtc": tdx_date(ci.created),
        "CreatedUid": EMPTY_UID,
        "CreatedFullName": "System",
        "ModifiedDateUtc": tdx_date(ci.modified),
        "ModifiedUid": EMPTY_UID,
        "ModifiedFullName": "System",
        "ExternalID": "",
        "ExternalSourceID": 0,
        "ExternalSourceName": "",
        "Attributes": [
            {
                "ID": attr.id,
                "Name": attr.name,
                "Order": 0,
                "Description": "",
                "SectionID": 0,
                "SectionName": None,
                "FieldType": "textbox",
                "DataType": "String",
                "Choices": [],
                "IsRequired": False,
                "IsUpdatable": True,
                "Value": attr.value,
                "ValueText": attr.value,
                "ChoicesText": "",
                "AssociatedItemIDs": [0],
            }
            for attr in store.ci_attributes(ci)
        ],
        "Attachments": [],
        "Uri": f"api/{s.asset_app_id}/cmdb/{ci.id}",
    }


def relationship(store: TenantStore, rel: Relationship) -> Json:
    parent = store.cis_by_id.get(rel.parent_ci_id)
    child = store.cis_by_id.get(rel.child_ci_id)
    kind = store.relationship_types.get(rel.type_id)
    return {
        "ID": rel.id,
        "ParentID": rel.parent_ci_id,
        "ParentName": parent.name if parent else "",
        "ParentTypeID": parent.type_id if parent else 0,
        "ParentTypeName": store.name("ci_type", parent.type_id) if parent else "",
        "ChildID": rel.child_ci_id,
        "ChildName": child.name if child else "",
        "ChildTypeID": child.type_id if child else 0,
        "ChildTypeName": store.name("ci_type", child.type_id) if child else "",
        "IsSystemMaintained": False,
        "RelationshipTypeID": rel.type_id,
        "Description": kind.description if kind else "",
        "InverseDescription": kind.inverse_description if kind else "",
        "IsOperationalDependency": False,
        "CreatedDateUtc": tdx_date(rel.created),
        "CreatedUID": EMPTY_UID,
        "CreatedFullName": "System",
    }


def person(store: TenantStore, p: Person, *, summary: bool = False) -> Json:
    payload: Json = {
        "UID": p.uid,
        "ReferenceID": p.ref_id,
        "BEID": SANDBOX_BEID,
        "BEIDInt": 1111,
        "IsActive": p.is_active,
        "IsConfidential": False,
        "UserName": p.username,
        "FullName": p.full_name,
        "FirstName": p.first_name,
        "LastName": p.last_name,
        "MiddleName": "",
        "Salutation": "",
        "Nickname": "",
        "DefaultAccountID": p.department_id,
        "DefaultAccountName": store.name("department", p.department_id),
        "PrimaryEmail": p.email,
        "AlternateEmail": "",
        "ExternalID": "",
        "AlternateID": "",
        "SecurityRoleName": "Client",
        "SecurityRoleID": "00000000-0000-0000-0000-000000000000",
        "Company": "Example University",
        "Title": p.title,
        "HomePhone": "",
        "PrimaryPhone": p.phone,
        "WorkPhone": p.phone,
        "Pager": "",
        "OtherPhone": "",
        "MobilePhone": "",
        "Fax": "",
        "DefaultPriorityID": 0,
        "DefaultPriorityName": "",
        "AboutMe": "",
        "WorkAddress": "",
        "WorkCity": "Ann Arbor",
        "WorkState": "MI",
        "WorkZip": "48109",
        "WorkCountry": "United States",
        "LocationID": p.location_id,
        "LocationName": store.name("location", p.location_id),
        "LocationRoomID": 0,
        "LocationRoomName": "",
        "IsEmployee": p.is_employee,
        "TZID": 4,
        "TZName": "(GMT-05:00) Eastern Time (US & Canada)",
        "TypeID": 1,
        "AuthenticationUserName": p.username,
        "AuthenticationProviderID": None,
        "IMProvider": "",
        "IMHandle": "",
    }
    if not summary:
        payload["AlertEmail"] = p.email
        payload["Applications"] = ["TDNext", "TDTickets", "TDAssets"]
        payload["Permissions"] = []
        payload["OrgApplications"] = [
            {"ID": store.settings.ticket_app_id, "IsActive": True},
            {"ID": store.settings.asset_app_id, "IsActive": True},
        ]
        payload["PrimaryClientPortalApplicationId"] = None
        payload["GroupIDs"] = []
        payload["ProfileImageFileName"] = ""
        payload["Attributes"] = []
    return payload


@dataclass(frozen=True)
class Column:
    header: str
    data_type: int
    value: Callable[[TenantStore, Ticket], Any]


def _attribute_text(attribute_id: int) -> Callable[[TenantStore, Ticket], Any]:
    def value(_store: TenantStore, t: Ticket) -> Any:
        return next((a.value_text for a in t.attributes if a.id == attribute_id), None)

    return value


def _status_name(store: TenantStore, t: Ticket) -> str:
    status = store.status(t.status_id)
    return status.name if status else ""


REPORT_COLUMNS: dict[str, Column] = {
    "TicketID": Column("Ticket ID", 2, lambda _s, t: t.id),
    "Title": Column("Title", 1, lambda _s, t: t.title),
    "StatusName": Column("Status", 1, _status_name),
    "CustomerName": Column("Requestor", 1, lambda s, t: _person_name(s, t.requestor_uid)),
    "AccountName": Column("Acct/Dept", 1, lambda s, t: s.name("department", t.account_id)),
    "ResponsibleGroupName": Column(
        "Resp Group", 1, lambda s, t: s.name("group", t.responsible_group_id)
    ),
    "CreatedDate": Column("Created", 7, lambda _s, t: tdx_date(t.created)),
    "ModifiedDate": Column("Modified", 7, lambda _s, t: tdx_date(t.modified)),
}


def report_column(store: TenantStore, name: str) -> Column:
    known = REPORT_COLUMNS.get(name)
    if known is not None:
        return known
    if name.isdigit():
        attribute_id = int(name)
        header = next(
            (a.name for t in store.tenant.tickets for a in t.attributes if a.id == attribute_id),
            name,
        )
        return Column(header, 1, _attribute_text(attribute_id))
    return Column(name, 0, lambda _s, _t: None)


def report(store: TenantStore, r: Report, rows: list[Json] | None) -> Json:
    columns = [(name, report_column(store, name)) for name in r.columns]
    sort_header = report_column(store, r.sort_column).header
    return {
        "ID": r.id,
        "Name": r.name,
        "Description": r.description,
        "MaxResults": r.max_results,
        "DisplayedColumns": [
            {
                "HeaderText": column.header,
                "ColumnName": name,
                "DataType": column.data_type,
                "SortColumnExpression": name,
                "SortColumnName": name,
                "SortDataType": column.data_type,
                "Aggregate": 0,
                "Component": 0,
                "FooterExpression": None,
            }
            for name, column in columns
        ],
        "SortOrder": [
            {
                "ColumnLabel": sort_header,
                "ColumnName": r.sort_column,
                "IsAscending": r.sort_ascending,
            }
        ],
        "ChartType": "None",
        "ChartSettings": [],
        "DataRows": rows if rows is not None else [],
        "CreatedUid": r.created_uid,
        "CreatedFullName": _person_name(store, r.created_uid),
        "CreatedDate": tdx_date(r.created),
        "OwningGroupID": r.owning_group_id,
        "OwningGroupName": store.name("group", r.owning_group_id),
        "SystemAppName": "TDTickets",
        "PlatformAppID": store.settings.ticket_app_id,
        "PlatformAppName": store.settings.ticket_app_name,
        "ReportSourceID": 7,
        "ReportSourceName": "Tickets",
        "Uri": f"api/reports/{r.id}",
    }


def report_info(store: TenantStore, r: Report) -> Json:
    full = report(store, r, None)
    for key in ("DisplayedColumns", "SortOrder", "ChartType", "ChartSettings", "DataRows"):
        del full[key]
    return full


def report_rows(store: TenantStore, r: Report, tickets: list[Ticket]) -> list[Json]:
    columns = [(name, report_column(store, name)) for name in r.columns]
    return [{name: column.value(store, t) for name, column in columns} for t in tickets]
