"""A sandbox tenant served in-process, a real TdxClient on it, and ticket contexts for actions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr

from tdxq.actions.context import TenantSettings, TicketContext
from tdxq.actions.lookups import (
    LookupRuntime,
    LookupsConfig,
    TdxAssetSearchLookup,
    TdxLabsByComputerLookup,
    TdxLabsByMemberLookup,
)
from tdxq.actions.protocol import PriorSummary
from tdxq.actions.reads import TicketReads
from tdxq.tdx import ClientOptions, TdxClient, UserPassword
from tdxq.tdx.sandbox.app import SandboxApp
from tdxq.tdx.sandbox.auth import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tdxq.tdx.sandbox.config import SandboxConfig
from tdxq.tdx.sandbox.tenant import Tenant

ROOT = "http://sandbox.test"


@dataclass
class TdxEnv:
    app: SandboxApp
    client: TdxClient
    tenant: TenantSettings
    lookups: LookupRuntime

    def context(
        self,
        ticket_id: int,
        *,
        instance_key: str = "",
        pending: Sequence[PriorSummary] = (),
    ) -> TicketContext:
        reads = TicketReads(self.client, self.tenant, ticket_id)
        return TicketContext(
            ticket_id=ticket_id,
            report_row={"TicketID": ticket_id},
            now=datetime(2026, 10, 1, 15, 0, tzinfo=UTC),
            tenant=self.tenant,
            reads=reads,
            lookups=self.lookups.for_ticket(reads),
            instance_key=instance_key,
            pending_summaries=list(pending),
        )

    def feed_writes(self) -> list[dict[str, object]]:
        return [w for w in self.app.writes if str(w["path"]).lower().endswith("/feed")]


def make_env(
    tenant: Tenant,
    lookups: LookupsConfig | None = None,
    default_dsn: Callable[[], str] | None = None,
) -> TdxEnv:
    app = SandboxApp(tenant.model_copy(deep=True), SandboxConfig(rate_limit=False))
    client = TdxClient(
        ROOT + app.base_path,
        UserPassword(username=SecretStr(SANDBOX_USERNAME), password=SecretStr(SANDBOX_PASSWORD)),
        ClientOptions(max_attempts=1),
        transport=app.transport(),
    )
    settings = app.settings
    tenant_settings = TenantSettings(
        ticket_app_id=settings.ticket_app_id,
        asset_app_id=settings.asset_app_id,
        web_url=settings.web_url_base(ROOT),
    )
    runtime = LookupRuntime(lookups or LookupsConfig(), default_dsn or _no_database)
    return TdxEnv(app=app, client=client, tenant=tenant_settings, lookups=runtime)


def tdx_lookups(tenant: Tenant) -> LookupsConfig:
    """The four lookups answered by TDX's API, set up for the tenant's computers and labs."""
    s = tenant.settings
    statuses, forms = sorted(s.active_asset_status_ids), [s.computer_form_id]
    return LookupsConfig(
        assets_by_identifier=TdxAssetSearchLookup(status_ids=statuses, form_ids=forms),
        assets_by_owner=TdxAssetSearchLookup(status_ids=statuses, form_ids=forms),
        labs_by_computer=TdxLabsByComputerLookup(lab_type_id=s.lab_ci_type_id),
        labs_by_member=TdxLabsByMemberLookup(
            lab_type_id=s.lab_ci_type_id, members_attribute_id=s.lab_members_attribute_id
        ),
    )


def _no_database() -> str:
    raise AssertionError("this test configured no SQL lookup")
