"""Auth modes from the environment; clear errors; secrets hidden in reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tdxq.tdx import AdminKey, StaticToken, TdxClient, TdxConfigError, TdxSettings, UserPassword

BASE = "https://org.teamdynamix.com/TDWebApi/api"
ENV_NAMES = (
    "TDX_BASE_URL",
    "TDX_BEID",
    "TDX_WEB_SERVICES_KEY",
    "TDX_USERNAME",
    "TDX_PASSWORD",
    "TDX_API_TOKEN",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("TDX_BASE_URL", BASE + "/")


def test_admin_key_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDX_BEID", "beid-secret-value")
    monkeypatch.setenv("TDX_WEB_SERVICES_KEY", "wsk-secret-value")
    settings = TdxSettings()
    credentials = settings.credentials()
    assert isinstance(credentials, AdminKey)
    assert credentials.login_body() == {
        "BEID": "beid-secret-value",
        "WebServicesKey": "wsk-secret-value",
    }
    assert settings.base_url == BASE
    for text in (repr(settings), str(settings), repr(credentials), str(settings.model_dump())):
        assert "secret-value" not in text


def test_user_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDX_USERNAME", "someuser")
    monkeypatch.setenv("TDX_PASSWORD", "pw-secret-value")
    credentials = TdxSettings().credentials()
    assert isinstance(credentials, UserPassword)
    assert credentials.login_body() == {"username": "someuser", "password": "pw-secret-value"}
    assert "pw-secret-value" not in repr(credentials)


def test_static_token_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDX_API_TOKEN", "token-secret-value")
    credentials = TdxSettings().credentials()
    assert isinstance(credentials, StaticToken)
    assert "token-secret-value" not in repr(credentials)


def test_dotenv_file_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TDX_BASE_URL")
    (tmp_path / ".env").write_text(f"TDX_BASE_URL={BASE}\nTDX_API_TOKEN=from-dotenv\n")
    settings = TdxSettings()
    assert isinstance(settings.credentials(), StaticToken)
    with TdxClient.from_env() as client:
        assert client.base_url == BASE


def test_tuning_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDX_API_TOKEN", "t")
    monkeypatch.setenv("TDX_RATE_LIMIT_MARGIN_S", "1.5")
    monkeypatch.setenv("TDX_MAX_ATTEMPTS", "2")
    options = TdxSettings().options()
    assert (options.rate_limit_margin_s, options.max_attempts) == (1.5, 2)
    assert options.read_timeout_s == 60.0


def test_no_credentials_is_a_clear_error() -> None:
    with pytest.raises(TdxConfigError, match=r"TDX_BEID and TDX_WEB_SERVICES_KEY.*TDX_API_TOKEN"):
        TdxSettings().credentials()


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ("TDX_BEID", "TDX_WEB_SERVICES_KEY"),
        ("TDX_WEB_SERVICES_KEY", "TDX_BEID"),
        ("TDX_USERNAME", "TDX_PASSWORD"),
        ("TDX_PASSWORD", "TDX_USERNAME"),
    ],
)
def test_half_pair_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, present: str, missing: str
) -> None:
    monkeypatch.setenv(present, "half-secret-value")
    with pytest.raises(TdxConfigError, match=f"{present} is set but {missing} is not") as info:
        TdxSettings().credentials()
    assert "half-secret-value" not in str(info.value)


def test_blank_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDX_BEID", "  ")
    monkeypatch.setenv("TDX_API_TOKEN", "tok")
    assert isinstance(TdxSettings().credentials(), StaticToken)


def test_two_modes_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDX_USERNAME", "u")
    monkeypatch.setenv("TDX_PASSWORD", "pw-secret-value")
    monkeypatch.setenv("TDX_API_TOKEN", "token-secret-value")
    with pytest.raises(TdxConfigError, match="more than one") as info:
        TdxSettings().credentials()
    assert "secret-value" not in str(info.value)


def test_missing_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TDX_BASE_URL")
    with pytest.raises(ValueError, match="base_url"):
        TdxSettings()


def test_bad_base_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDX_BASE_URL", "https://org.teamdynamix.com")
    with pytest.raises(ValueError, match="/TDWebApi/api"):
        TdxSettings()
