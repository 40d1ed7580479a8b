"""A local TeamDynamix-compatible sandbox: a WSGI app over a generated tenant, served over
real HTTP (`serve`) or in-process (`SandboxApp.transport()`).

Default credentials (fixed, public): BEID `11111111-1111-1111-1111-111111111111` with
WebServicesKey `22222222-2222-2222-2222-222222222222` (POST auth/loginadmin), or user
`sandbox` / password `sandbox` (POST auth, auth/login).
"""

from __future__ import annotations

from .app import SandboxApp
from .auth import (
    SANDBOX_BEID,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    SANDBOX_WEB_SERVICES_KEY,
    read_claims,
)
from .config import SandboxConfig
from .dates import NO_DATE, tdx_date
from .errors import ConnectionFault, DroppedConnection, HungConnection
from .faults import FaultConfig
from .generate import generate_tenant
from .server import SandboxServer, serve
from .tenant import Tenant, TenantSettings
from .transport import SandboxTransport

__all__ = [
    "NO_DATE",
    "SANDBOX_BEID",
    "SANDBOX_PASSWORD",
    "SANDBOX_USERNAME",
    "SANDBOX_WEB_SERVICES_KEY",
    "ConnectionFault",
    "DroppedConnection",
    "FaultConfig",
    "HungConnection",
    "SandboxApp",
    "SandboxConfig",
    "SandboxServer",
    "SandboxTransport",
    "Tenant",
    "TenantSettings",
    "generate_tenant",
    "read_claims",
    "serve",
    "tdx_date",
]
