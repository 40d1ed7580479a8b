"""Client settings from the environment (``TDX_*``, and a ``.env`` file when present).

Exactly one way to authenticate must be configured:

- ``TDX_BEID`` + ``TDX_WEB_SERVICES_KEY``: admin service account (``POST auth/loginadmin``);
- ``TDX_USERNAME`` + ``TDX_PASSWORD``: a user (``POST auth``);
- ``TDX_API_TOKEN``: a token obtained elsewhere (cannot be renewed by this client).
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .credentials import AdminKey, Credentials, StaticToken, UserPassword
from .errors import TdxConfigError
from .options import ClientOptions
from .urls import normalize_base_url


class TdxSettings(BaseSettings, ClientOptions):
    """Where TDX is, how to log in, and (from ClientOptions, as TDX_* too) how patient to be."""

    model_config = SettingsConfigDict(
        env_prefix="TDX_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    base_url: str = Field(description="e.g. https://org.teamdynamix.com/TDWebApi/api")
    beid: SecretStr | None = None
    web_services_key: SecretStr | None = None
    username: SecretStr | None = None
    password: SecretStr | None = None
    api_token: SecretStr | None = None

    @field_validator("base_url")
    @classmethod
    def _normalize_base_url(cls, value: str) -> str:
        return normalize_base_url(value)

    @field_validator("beid", "web_services_key", "username", "password", "api_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def options(self) -> ClientOptions:
        """The tuning part of these settings."""
        return ClientOptions(**{name: getattr(self, name) for name in ClientOptions.model_fields})

    def credentials(self) -> Credentials:
        """The one configured way to log in; a clear TdxConfigError otherwise."""
        return credentials_from(
            beid=self.beid,
            web_services_key=self.web_services_key,
            username=self.username,
            password=self.password,
            api_token=self.api_token,
        )


def credentials_from(
    *,
    beid: SecretStr | None,
    web_services_key: SecretStr | None,
    username: SecretStr | None,
    password: SecretStr | None,
    api_token: SecretStr | None,
) -> Credentials:
    """Pick the auth mode from the settings; reject none, half pairs and more than one mode."""
    _require_pair("TDX_BEID", beid, "TDX_WEB_SERVICES_KEY", web_services_key)
    _require_pair("TDX_USERNAME", username, "TDX_PASSWORD", password)
    modes: list[Credentials] = []
    if beid is not None and web_services_key is not None:
        modes.append(AdminKey(beid=beid, web_services_key=web_services_key))
    if username is not None and password is not None:
        modes.append(UserPassword(username=username, password=password))
    if api_token is not None:
        modes.append(StaticToken(token=api_token))
    if not modes:
        raise TdxConfigError(
            "no TDX credentials configured: set TDX_BEID and TDX_WEB_SERVICES_KEY, "
            "or TDX_USERNAME and TDX_PASSWORD, or TDX_API_TOKEN"
        )
    if len(modes) > 1:
        names = ", ".join(mode.describe() for mode in modes)
        raise TdxConfigError(f"more than one TDX auth mode configured ({names}); keep only one")
    return modes[0]


def _require_pair(
    first_name: str, first: SecretStr | None, second_name: str, second: SecretStr | None
) -> None:
    if (first is None) != (second is None):
        present, missing = (
            (first_name, second_name) if second is None else (second_name, first_name)
        )
        raise TdxConfigError(f"{present} is set but {missing} is not; set both or neither")
