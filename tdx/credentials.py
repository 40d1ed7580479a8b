"""The three ways to authenticate against TDX. Secrets stay wrapped in SecretStr."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import SecretStr


@dataclass(frozen=True)
class AdminKey:
    """Admin service account: ``POST auth/loginadmin`` with the BEID and WebServicesKey."""

    beid: SecretStr
    web_services_key: SecretStr

    login_path: ClassVar[str] = "auth/loginadmin"

    def describe(self) -> str:
        return "admin key (TDX_BEID + TDX_WEB_SERVICES_KEY)"

    def login_body(self) -> dict[str, str]:
        return {
            "BEID": self.beid.get_secret_value(),
            "WebServicesKey": self.web_services_key.get_secret_value(),
        }

    def secrets(self) -> tuple[str, ...]:
        return (self.beid.get_secret_value(), self.web_services_key.get_secret_value())


@dataclass(frozen=True)
class UserPassword:
    """A TDX user: ``POST auth`` with user name and password."""

    username: SecretStr
    password: SecretStr

    login_path: ClassVar[str] = "auth"

    def describe(self) -> str:
        return "user and password (TDX_USERNAME + TDX_PASSWORD)"

    def login_body(self) -> dict[str, str]:
        return {
            "username": self.username.get_secret_value(),
            "password": self.password.get_secret_value(),
        }

    def secrets(self) -> tuple[str, ...]:
        return (self.username.get_secret_value(), self.password.get_secret_value())


@dataclass(frozen=True)
class StaticToken:
    """A bearer token obtained elsewhere; it cannot be renewed, so a 401 is final."""

    token: SecretStr

    def describe(self) -> str:
        return "static token (TDX_API_TOKEN)"

    def secrets(self) -> tuple[str, ...]:
        return (self.token.get_secret_value(),)


Credentials = AdminKey | UserPassword | StaticToken
LoginCredentials = AdminKey | UserPassword
