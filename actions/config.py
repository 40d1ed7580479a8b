"""The tdxq configuration file: TDX tenant, reports, pipelines, retry policy, lookups.

TOML (``.toml``) or JSON (``.json``); the path comes from ``--config``, else ``TDXQ_CONFIG``, else
``./tdxq.toml``. Every key is checked: unknown keys are errors (a typo must not pass silently),
and each action's ``options`` are validated by the Options model its type registered. Every
problem is reported at once, each naming the key path (``pipelines.desktop.actions[2].options.
max_assets_to_add``), what was expected and what was found, under the file's name.

Credentials never live in this file: TDX keys, passwords and tokens come from the environment
(``TDX_BEID`` + ``TDX_WEB_SERVICES_KEY``, ``TDX_USERNAME`` + ``TDX_PASSWORD``, ``TDX_API_TOKEN``).
``tdx.base_url`` may be left out when ``TDX_BASE_URL`` is set; when both are set the environment
wins, so one file can run against a sandbox and production.

Example::

    [tdx]
    base_url = "https://org.teamdynamix.com/TDWebApi/api"
    ticket_app_id = 46
    asset_app_id = 48
    web_url = "https://org.teamdynamix.com/TDNext"

    [reports.1344]
    pipeline = "desktop"

    [[pipelines.desktop.actions]]
    type = "add_asset"
    version = "v2"
    options = { max_assets_to_add = 10 }
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from .base import ActionBase
from .config_errors import (
    ConfigError,
    Problem,
    problems_from_validation,
    secret_key_problems,
    show,
)
from .context import TenantSettings
from .lookups import LookupsConfig
from .registry import UnknownActionType, action_class
from .retry_policy import RetryPolicy

DEFAULT_CONFIG = Path("tdxq.toml")
CONFIG_ENV = "TDXQ_CONFIG"

T = TypeVar("T")

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "ActionEntry",
    "Config",
    "ConfigError",
    "ConfigFile",
    "PipelineEntry",
    "Problem",
    "ReportEntry",
    "RetrySection",
    "TdxSection",
    "config_path",
    "load_config",
    "parse_config",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _http_url(value: str) -> str:
    text = value.strip()
    if not text.startswith(("http://", "https://")) or len(text) < len("http://x"):
        raise ValueError("an http:// or https:// URL")
    return text.rstrip("/")


class TdxSection(_Section):
    """``[tdx]``: where the tenant is and which applications hold its tickets and assets."""

    base_url: str | None = Field(default=None, description="…/TDWebApi/api; or TDX_BASE_URL")
    ticket_app_id: int = Field(gt=0)
    asset_app_id: int = Field(gt=0, description="the Assets/CIs (CMDB) application")
    web_url: str = Field(description="the web UI root for ticket links, e.g. https://host/TDNext")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("web_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        return _http_url(value)


class ReportEntry(_Section):
    """``[reports.ID]``: the pipeline that report's tickets run, and how often to poll it."""

    pipeline: str = Field(min_length=1)
    interval_s: float | None = Field(default=None, gt=0, description="daemon poll interval")
    # Columns left out of a row's fingerprint: our own writes bump ModifiedDate, and a ticket
    # "changed" only by us must not re-run the actions that skipped it.
    volatile_columns: list[str] = Field(default_factory=lambda: ["ModifiedDate"])


class ActionEntry(_Section):
    """One step of a pipeline, before its options are validated by its type."""

    type: str = Field(min_length=1)
    version: str = Field(default="v1", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    options: dict[str, Any] = Field(default_factory=dict)


class PipelineEntry(_Section):
    """``[pipelines.NAME]``: the ordered actions."""

    # Tables here; each is checked on its own (ActionEntry, then its type's Options), so one
    # bad action does not hide the problems of the others.
    actions: list[dict[str, Any]] = Field(min_length=1)
    description: str = ""


class RetrySection(_Section):
    """``[retry]``: attempts per action and the exponential backoff between them."""

    max_attempts: int = Field(default=5, ge=1, le=100)
    base_delay_s: float = Field(default=60.0, gt=0)
    max_delay_s: float = Field(default=3600.0, gt=0)
    jitter: float = Field(default=0.25, ge=0, le=1, description="shorten delays by up to this")

    @model_validator(mode="after")
    def _ordered(self) -> RetrySection:
        if self.max_delay_s < self.base_delay_s:
            raise ValueError(
                f"max_delay_s ({self.max_delay_s:g}) at least base_delay_s ({self.base_delay_s:g})"
            )
        return self

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_delay=timedelta(seconds=self.base_delay_s),
            max_delay=timedelta(seconds=self.max_delay_s),
            jitter=self.jitter,
        )


class ConfigFile(_Section):
    """The whole file, as written (action options still raw)."""

    tdx: TdxSection
    reports: dict[str, ReportEntry] = Field(default_factory=dict)
    pipelines: dict[str, PipelineEntry] = Field(default_factory=dict)
    retry: RetrySection = Field(default_factory=RetrySection)
    lookups: LookupsConfig = Field(default_factory=LookupsConfig)


class _BaseUrlFromEnv(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TDX_", env_file=".env", extra="ignore")

    base_url: str | None = None


@dataclass(frozen=True)
class Config:
    """A validated configuration; ``pipeline_for(report_id)`` gives the actions to run."""

    path: Path
    file: ConfigFile
    base_url: str
    base_url_source: str  # "file" or "environment"
    reports: Mapping[int, ReportEntry]
    pipelines: Mapping[str, tuple[ActionBase[Any], ...]]

    @property
    def tdx(self) -> TdxSection:
        return self.file.tdx

    @property
    def tenant(self) -> TenantSettings:
        return TenantSettings(
            ticket_app_id=self.tdx.ticket_app_id,
            asset_app_id=self.tdx.asset_app_id,
            web_url=self.tdx.web_url,
        )

    @property
    def retry(self) -> RetryPolicy:
        """The processor's retry policy, from ``[retry]``."""
        return self.file.retry.policy()

    @property
    def lookups(self) -> LookupsConfig:
        return self.file.lookups

    def pipeline_for(self, report_id: int) -> list[ActionBase[Any]]:
        """The actions of the pipeline configured for ``report_id``, in order."""
        entry = self.reports.get(report_id)
        if entry is None:
            known = ", ".join(str(r) for r in sorted(self.reports)) or "none"
            raise ConfigError(
                self.path,
                [Problem(f"reports.{report_id}", "a configured report", f"none (known: {known})")],
            )
        return list(self.pipelines[entry.pipeline])

    def all_actions(self) -> list[ActionBase[Any]]:
        """Every configured action once, in pipeline order."""
        seen: dict[str, ActionBase[Any]] = {}
        for actions in self.pipelines.values():
            for action in actions:
                seen.setdefault(action.action_id, action)
        return list(seen.values())

    def digest(self) -> str:
        """A short hash of everything that changes what runs (for run_started events)."""
        body = {
            "tdx": self.tdx.model_dump(mode="json", exclude={"base_url"}),
            "reports": {str(k): v.model_dump(mode="json") for k, v in sorted(self.reports.items())},
            "pipelines": {
                name: [a.action_id for a in actions] for name, actions in self.pipelines.items()
            },
            "retry": self.file.retry.model_dump(mode="json"),
            "lookups": self.lookups.model_dump(mode="json"),
        }
        raw = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(raw).hexdigest()[:16]


def config_path(
    cli_value: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """``--config``, else ``TDXQ_CONFIG``, else ``./tdxq.toml``."""
    env = os.environ if environ is None else environ
    if cli_value:
        return Path(cli_value)
    if env.get(CONFIG_ENV, "").strip():
        return Path(env[CONFIG_ENV].strip())
    return DEFAULT_CONFIG


def load_config(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read, parse and validate the configuration file; ``ConfigError`` says what is wrong."""
    resolved = config_path(path, environ)
    try:
        text = resolved.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            resolved,
            [],
            f"configuration file {resolved} not found (give --config PATH or set {CONFIG_ENV})",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(resolved, [], f"cannot read {resolved}: {exc}") from None
    return parse_config(text, resolved, environ=environ)


def parse_config(
    text: str, path: str | Path, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Validate configuration ``text``; ``path`` names it in errors and picks TOML or JSON."""
    source = Path(path)
    raw = _parse_document(text, source)
    problems = secret_key_problems(raw)
    hidden = {problem.key for problem in problems}
    sections, section_problems = _validate_sections(raw)
    # A secret key is reported once, by name only (its "unknown key" twin would repeat it).
    problems += [problem for problem in section_problems if problem.key not in hidden]
    tdx: TdxSection | None = sections.get("tdx")
    pipeline_entries: dict[str, PipelineEntry] | None = sections.get("pipelines")
    lookups: LookupsConfig | None = sections.get("lookups")
    report_entries: dict[str, ReportEntry] | None = sections.get("reports")
    raw_pipelines = raw.get("pipelines")
    pipeline_names = set(raw_pipelines) if isinstance(raw_pipelines, dict) else set()

    reports: dict[int, ReportEntry] = {}
    if report_entries is not None:
        reports, report_problems = _reports(report_entries, pipeline_names)
        problems += report_problems
    pipelines: dict[str, tuple[ActionBase[Any], ...]] = {}
    if pipeline_entries is not None:
        configured = lookups.configured() if lookups is not None else None
        pipelines, pipeline_problems = _pipelines(pipeline_entries, configured)
        problems += pipeline_problems
    base_url, base_url_source = "", ""
    if tdx is not None:
        base_url, base_url_source, url_problems = _base_url(tdx, environ)
        problems += url_problems
    if problems:
        raise ConfigError(source, _dedupe(problems))
    return Config(
        path=source,
        file=ConfigFile.model_validate(raw),
        base_url=base_url,
        base_url_source=base_url_source,
        reports=reports,
        pipelines=pipelines,
    )


def _validate_sections(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Each top-level section on its own, so one bad section does not hide the others' problems."""
    problems: list[Problem] = []
    known = list(ConfigFile.model_fields)
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                Problem(
                    str(key), f"one of the sections {', '.join(known)}{hint}", "unknown section"
                )
            )
    sections: dict[str, Any] = {}
    for name, field in ConfigFile.model_fields.items():
        if name not in raw:
            if field.is_required():
                problems.append(Problem(f"[{name}]", "this section (it is required)", "nothing"))
            else:
                sections[name] = field.get_default(call_default_factory=True)
            continue
        annotation: Any = field.annotation
        value, section_problems = _validate_section(annotation, raw[name], name)
        problems += section_problems
        if not section_problems:
            sections[name] = value
        elif value is not None:
            sections[name] = value  # the entries that were valid, for the cross-checks
    return sections, problems


def _validate_section(annotation: Any, raw: Any, name: str) -> tuple[Any, list[Problem]]:
    """A table of named entries ([reports], [pipelines]) is checked entry by entry."""
    if get_origin(annotation) is dict and isinstance(raw, Mapping):
        entry_type = get_args(annotation)[1]
        valid: dict[str, Any] = {}
        problems: list[Problem] = []
        for key, entry in raw.items():
            value, entry_problems = _validate_section(entry_type, entry, f"{name}.{_key(key)}")
            problems += entry_problems
            if not entry_problems:
                valid[key] = value
        return valid, problems
    try:
        return _strict_typed(TypeAdapter(annotation), raw), []
    except ValidationError as exc:
        return None, problems_from_validation(exc, annotation, prefix=name)


def _parse_document(text: str, source: Path) -> dict[str, Any]:
    suffix = source.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                source,
                [],
                f"{source}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(source, [Problem("(top level)", "an object", type(data).__name__)])
        return data
    if suffix not in (".toml", ""):
        raise ConfigError(
            source, [], f"{source}: expected a .toml or .json file, found a {suffix} file"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [], f"{source}: not valid TOML: {exc}") from None


def _reports(
    entries: Mapping[str, ReportEntry], pipeline_names: set[str]
) -> tuple[dict[int, ReportEntry], list[Problem]]:
    reports: dict[int, ReportEntry] = {}
    problems: list[Problem] = []
    for key, entry in entries.items():
        path = f"reports.{_key(key)}"
        if not key.isascii() or not key.isdigit() or int(key) <= 0:
            problems.append(Problem(path, "a positive report id as the key", show(key)))
            continue
        if int(key) in reports:
            problems.append(Problem(path, "each report once", f"report {int(key)} again"))
            continue
        if entry.pipeline not in pipeline_names:
            known = ", ".join(sorted(pipeline_names)) or "none defined"
            problems.append(
                Problem(
                    f"{path}.pipeline",
                    f"the name of a pipeline under [pipelines] ({known})",
                    show(entry.pipeline),
                )
            )
            continue
        reports[int(key)] = entry
    return reports, problems


def _pipelines(
    entries: Mapping[str, PipelineEntry], configured_lookups: set[str] | None
) -> tuple[dict[str, tuple[ActionBase[Any], ...]], list[Problem]]:
    """Build every action; ``configured_lookups`` None means [lookups] itself was invalid."""
    pipelines: dict[str, tuple[ActionBase[Any], ...]] = {}
    problems: list[Problem] = []
    for name, pipeline in entries.items():
        built: list[ActionBase[Any]] = []
        first_index: dict[str, int] = {}
        for index, entry in enumerate(pipeline.actions):
            where = f"pipelines.{_key(name)}.actions[{index}]"
            action, action_problems = _build_action(entry, where)
            problems += action_problems
            if action is None:
                continue
            if action.action_id in first_index:
                problems.append(
                    Problem(
                        where,
                        "each action once per pipeline",
                        f"the same action as actions[{first_index[action.action_id]}] "
                        f"({action.action_id})",
                    )
                )
                continue
            first_index[action.action_id] = index
            missing = action.NEEDS_LOOKUPS - (configured_lookups or action.NEEDS_LOOKUPS)
            for lookup in sorted(missing):
                problems.append(
                    Problem(
                        f"lookups.{lookup}",
                        f"a [lookups.{lookup}] section ({action.TYPE} at {where} needs it)",
                        "none",
                    )
                )
            built.append(action)
        pipelines[name] = tuple(built)
    return pipelines, problems


def _build_action(
    raw: Mapping[str, Any], where: str
) -> tuple[ActionBase[Any] | None, list[Problem]]:
    problems: list[Problem] = []
    entry: ActionEntry | None = None
    try:
        entry = _strict_typed(TypeAdapter(ActionEntry), raw)
    except ValidationError as exc:
        problems += problems_from_validation(exc, ActionEntry, prefix=where)
    type_name, options = raw.get("type"), raw.get("options", {})
    if not isinstance(type_name, str) or not type_name:
        return None, problems
    try:
        cls = action_class(type_name)
    except UnknownActionType as exc:
        known = ", ".join(exc.known)
        return None, [*problems, Problem(f"{where}.type", f"one of {known}", show(type_name))]
    validated = None
    if isinstance(options, Mapping):
        try:
            validated = _strict_typed(TypeAdapter(cls.Options), options)
        except ValidationError as exc:
            problems += problems_from_validation(exc, cls.Options, prefix=f"{where}.options")
    if problems or entry is None or validated is None:
        return None, problems
    return cls(validated, entry.version), []


def _strict_typed(adapter: TypeAdapter[T], value: Any) -> T:
    """Validate as typed data: a TOML string is not a bool or an int ("yes" is not true).

    Strict JSON-mode validation still accepts what a file can only spell as text or arrays:
    enum values, lists for tuples, ISO dates.
    """
    return adapter.validate_json(orjson.dumps(value), strict=True)


def _base_url(tdx: TdxSection, environ: Mapping[str, str] | None) -> tuple[str, str, list[Problem]]:
    # Without an explicit environment (tests), read TDX_BASE_URL the way the client does (.env).
    from_env = _BaseUrlFromEnv().base_url if environ is None else environ.get("TDX_BASE_URL")
    if from_env and from_env.strip():
        try:
            return _http_url(from_env), "environment", []
        except ValueError:
            return (
                "",
                "",
                [
                    Problem(
                        "TDX_BASE_URL (environment)", "an http:// or https:// URL", show(from_env)
                    )
                ],
            )
    if tdx.base_url:
        return tdx.base_url, "file", []
    return (
        "",
        "",
        [Problem("tdx.base_url", "the TDX API URL here or in TDX_BASE_URL", "neither is set")],
    )


def _key(name: str) -> str:
    plain = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if plain else json.dumps(name)


def _dedupe(problems: Sequence[Problem]) -> list[Problem]:
    seen: dict[tuple[str, str, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.key, problem.expected, problem.found), problem)
    return list(seen.values())
