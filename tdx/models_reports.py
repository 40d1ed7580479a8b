"""Report Builder reports (``GET reports/{id}?withData=true``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .fields import OptionalInt, TdxDateTime, TdxList, TdxModel, TdxUid


class DisplayedColumn(TdxModel):
    """A report column; ``column_name`` is the key of this column in each of ``DataRows``."""

    header_text: str | None = None
    column_name: str
    data_type: OptionalInt = None
    sort_column_expression: str | None = None
    sort_column_name: str | None = None
    sort_data_type: OptionalInt = None
    aggregate: OptionalInt = None
    component: OptionalInt = None
    footer_expression: str | None = None


class ReportSortColumn(TdxModel):
    """One entry of a report's ``SortOrder``."""

    column_label: str | None = None
    column_name: str | None = None
    is_ascending: bool | None = None


class Report(TdxModel):
    """A report and, when fetched with data, its rows keyed by each column's ``ColumnName``.

    Row values are kept exactly as TDX sent them (dates stay strings): a row's shape depends on
    the report definition, which lives in the tenant, not in this code.
    """

    id: int
    name: str | None = None
    description: str | None = None
    max_results: OptionalInt = None
    displayed_columns: TdxList[DisplayedColumn] = Field(default_factory=list)
    sort_order: TdxList[ReportSortColumn] = Field(default_factory=list)
    chart_type: str | None = None
    chart_settings: TdxList[dict[str, Any]] = Field(default_factory=list)
    data_rows: TdxList[dict[str, Any]] = Field(default_factory=list)
    created_uid: TdxUid = None
    created_full_name: str | None = None
    created_date: TdxDateTime = None
    owning_group_id: OptionalInt = None
    owning_group_name: str | None = None
    system_app_name: str | None = None
    platform_app_id: OptionalInt = None
    platform_app_name: str | None = None
    report_source_id: OptionalInt = None
    report_source_name: str | None = None
    uri: str | None = None
