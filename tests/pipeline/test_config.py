"""The configuration file: every problem names the file, the key, what was expected and found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tdxq.actions.config import ConfigError, config_path, load_config, parse_config
from tdxq.actions.lookups import SqlLookup, TdxAssetSearchLookup

from .conftest import COMMENT_PIPELINE, TDX_SECTION

NO_ENV: dict[str, str] = {}
WriteConfig = Callable[..., Path]


def problems_of(text: str, write_config: WriteConfig, name: str = "tdxq.toml") -> ConfigError:
    path = write_config(text, name)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=NO_ENV)
    assert str(path) in str(caught.value)
    return caught.value


def keys(error: ConfigError) -> list[str]:
    return [problem.key for problem in error.problems]


def test_a_valid_file_gives_the_pipeline_of_each_report(write_config: WriteConfig) -> None:
    config = load_config(write_config(TDX_SECTION + COMMENT_PIPELINE), environ=NO_ENV)

    actions = config.pipeline_for(1344)
    assert [a.TYPE for a in actions] == ["comment", "summary_comment"]
    assert actions[0].action_id.startswith("comment:") and actions[0].action_id.endswith(":v1")
    # The seed's formula, as in its own documentation.
    assert actions[0].legacy_id == "comment:054200481667:v1"
    assert config.tenant.ticket_app_id == 46
    assert config.base_url == "https://tdx.example.edu/TDWebApi/api"
    assert config.base_url_source == "file"
    assert isinstance(config.lookups.assets_by_identifier, TdxAssetSearchLookup)


def test_a_wrong_option_value_names_file_key_expected_and_found(
    write_config: WriteConfig,
) -> None:
    text = TDX_SECTION + COMMENT_PIPELINE.replace(
        'options = { comment_text = "Hello World" }',
        'options = { comment_text = "Hi", is_private = "yes" }',
    )
    error = problems_of(text, write_config)

    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.key == "pipelines.desk.actions[0].options.is_private"
    assert problem.expected == "true or false"
    assert problem.found == '"yes" (a string)'
    assert "pipelines.desk.actions[0].options.is_private: expected true or false" in str(error)


def test_unknown_keys_are_errors_at_every_level_with_a_suggestion(
    write_config: WriteConfig,
) -> None:
    text = (
        TDX_SECTION.replace("web_url", "web_ur1")
        + COMMENT_PIPELINE.replace('version = "v1"', 'version = "v1"\nverison = "v2"').replace(
            'comment_text = "Hello World"', 'comment_txt = "Hello World"'
        )
        + "\n[retyr]\nmax_attempts = 3\n"
    )
    error = problems_of(text, write_config)

    found = {problem.key: problem for problem in error.problems}
    assert "retyr" in found and "'retry'" in found["retyr"].expected
    assert "tdx.web_ur1" in found and "'web_url'" in found["tdx.web_ur1"].expected
    assert "tdx.web_url" in found and found["tdx.web_url"].found == "nothing"
    assert "pipelines.desk.actions[0].verison" in found
    assert "'version'" in found["pipelines.desk.actions[0].verison"].expected
    typo = found["pipelines.desk.actions[0].options.comment_txt"]
    assert "did you mean 'comment_text'" in typo.expected
    assert typo.found == "unknown key 'comment_txt'"


def test_every_problem_is_reported_at_once(write_config: WriteConfig) -> None:
    text = (
        TDX_SECTION.replace("ticket_app_id = 46", "ticket_app_id = 0")
        + COMMENT_PIPELINE.replace('pipeline = "desk"', 'pipeline = "dsek"').replace(
            'type = "summary_comment"', 'type = "sumary_comment"'
        )
        + "\n[retry]\nmax_attempts = 0\n"
    )
    error = problems_of(text, write_config)

    assert keys(error) == [
        "tdx.ticket_app_id",
        "retry.max_attempts",
        "reports.1344.pipeline",
        "pipelines.desk.actions[1].type",
    ]
    assert error.problems[0].expected == "a number greater than 0"
    assert '"dsek"' in error.problems[2].found and "desk" in error.problems[2].expected
    assert "summary_comment" in error.problems[3].expected


def test_credentials_in_the_file_are_refused_without_showing_them(
    write_config: WriteConfig,
) -> None:
    secret = "s3cr3t-value-42"
    text = (
        TDX_SECTION + f'password = "{secret}"\nweb_services_key = "{secret}"\n' + COMMENT_PIPELINE
    )
    text += '\n[lookups.labs_by_member]\nkind = "sql"\nquery = "select %(uid)s"\n'
    text += f'dsn = "postgresql://tdxq:{secret}@db.example.edu/warehouse"\n'
    error = problems_of(text, write_config)

    assert secret not in str(error)
    assert secret not in repr(error.problems)
    assert keys(error) == ["tdx.password", "tdx.web_services_key", "lookups.labs_by_member.dsn"]
    assert "TDX_PASSWORD" in error.problems[0].expected
    assert "environment" in error.problems[2].expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("select id from labs where member = %(person)s", "found %(person)s"),
        ("select id from labs where member = %s", "use named parameters"),
        ("select id from labs where name like 'x%'", "write %% for a literal"),
        ("select id from labs", "uses at least one of %(uid)s"),
    ],
)
def test_sql_lookups_take_only_their_named_parameters(
    write_config: WriteConfig, query: str, expected: str
) -> None:
    text = TDX_SECTION + f'\n[lookups.labs_by_member]\nkind = "sql"\nquery = "{query}"\n'
    error = problems_of(text, write_config)

    assert keys(error) == ["lookups.labs_by_member"]
    assert expected in error.problems[0].expected


def test_sql_lookup_with_a_dsn_from_the_environment(write_config: WriteConfig) -> None:
    text = TDX_SECTION + (
        '\n[lookups.labs_by_member]\nkind = "sql"\ndsn_env = "WAREHOUSE_URL"\n'
        'query = "select lab_ci_id from lab_members where member_uid = %(uid)s"\n'
    )
    config = load_config(write_config(text), environ=NO_ENV)

    lookup = config.lookups.labs_by_member
    assert isinstance(lookup, SqlLookup)
    assert lookup.dsn_env == "WAREHOUSE_URL"
    assert config.lookups.configured() == {
        "assets_by_identifier",
        "assets_by_owner",
        "labs_by_member",
    }


def test_an_action_needing_an_unconfigured_lookup_is_an_error(
    write_config: WriteConfig, sandbox_toml: str
) -> None:
    without_lab_lookups = sandbox_toml.split("[lookups.labs_by_computer]")[0]
    error = problems_of(without_lab_lookups, write_config)

    assert keys(error) == ["lookups.labs_by_computer", "lookups.labs_by_member"]
    assert "add_lab at pipelines.desktop.actions[1]" in error.problems[0].expected


def test_the_same_action_twice_in_one_pipeline_is_an_error(write_config: WriteConfig) -> None:
    text = TDX_SECTION + COMMENT_PIPELINE.replace(
        '[[pipelines.desk.actions]]\ntype = "summary_comment"',
        '[[pipelines.desk.actions]]\ntype = "comment"\noptions = { comment_text = "Hello World" }'
        '\n\n[[pipelines.desk.actions]]\ntype = "summary_comment"',
    )
    error = problems_of(text, write_config)

    assert keys(error) == ["pipelines.desk.actions[1]"]
    assert "actions[0]" in error.problems[0].found


def test_report_ids_must_be_numbers(write_config: WriteConfig) -> None:
    error = problems_of(
        TDX_SECTION + COMMENT_PIPELINE.replace("[reports.1344]", "[reports.east]"), write_config
    )
    assert keys(error) == ["reports.east"]
    assert error.problems[0].expected == "a positive report id as the key"


def test_base_url_from_the_environment_wins_and_one_is_required(
    write_config: WriteConfig,
) -> None:
    path = write_config(TDX_SECTION + COMMENT_PIPELINE)
    config = load_config(path, environ={"TDX_BASE_URL": "http://127.0.0.1:9/TDWebApi/api/"})
    assert config.base_url == "http://127.0.0.1:9/TDWebApi/api"
    assert config.base_url_source == "environment"

    no_url = write_config(TDX_SECTION.replace('base_url = "https', '# "https') + COMMENT_PIPELINE)
    with pytest.raises(ConfigError) as caught:
        load_config(no_url, environ=NO_ENV)
    assert keys(caught.value) == ["tdx.base_url"]
    assert "TDX_BASE_URL" in caught.value.problems[0].expected


def test_json_files_work_and_json_syntax_errors_name_the_line(write_config: WriteConfig) -> None:
    good = """{
      "tdx": {"base_url": "https://h/TDWebApi/api", "ticket_app_id": 1, "asset_app_id": 2,
              "web_url": "https://h/TDNext"},
      "reports": {"7": {"pipeline": "p"}},
      "pipelines": {"p": {"actions": [{"type": "comment", "options": {"comment_text": "x"}}]}}
    }"""
    config = load_config(write_config(good, "tdxq.json"), environ=NO_ENV)
    assert [a.TYPE for a in config.pipeline_for(7)] == ["comment"]

    path = write_config('{"tdx": {,}}', "bad.json")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=NO_ENV)
    assert f"{path}: not valid JSON" in str(caught.value)
    assert "line 1, column 10" in str(caught.value)


def test_toml_syntax_errors_and_missing_files_are_clear(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    path = write_config("[tdx]\nticket_app_id = = 4\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=NO_ENV)
    assert f"{path}: not valid TOML" in str(caught.value)
    assert "line 2" in str(caught.value)

    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml not found .*--config PATH or set TDXQ_"):
        load_config(missing, environ=NO_ENV)


def test_config_path_order_is_flag_then_environment_then_default() -> None:
    assert config_path("a.toml", {"TDXQ_CONFIG": "b.toml"}) == Path("a.toml")
    assert config_path(None, {"TDXQ_CONFIG": "b.toml"}) == Path("b.toml")
    assert config_path(None, {}) == Path("tdxq.toml")


def test_changing_one_option_changes_only_that_action_id(write_config: WriteConfig) -> None:
    before = parse_config(TDX_SECTION + COMMENT_PIPELINE, "a.toml", environ=NO_ENV)
    after = parse_config(
        TDX_SECTION + COMMENT_PIPELINE.replace("Hello World", "Hello there"),
        "b.toml",
        environ=NO_ENV,
    )
    ids_before = [a.action_id for a in before.pipeline_for(1344)]
    ids_after = [a.action_id for a in after.pipeline_for(1344)]
    assert ids_before[0] != ids_after[0]
    assert ids_before[1] == ids_after[1]
    assert before.digest() != after.digest()


def test_unknown_report_is_a_config_error(write_config: WriteConfig) -> None:
    config = load_config(write_config(TDX_SECTION + COMMENT_PIPELINE), environ=NO_ENV)
    with pytest.raises(ConfigError, match=r"reports\.99: expected a configured report"):
        config.pipeline_for(99)


def test_retry_section_becomes_the_processors_retry_policy(write_config: WriteConfig) -> None:
    text = TDX_SECTION + COMMENT_PIPELINE + "\n[retry]\nmax_attempts = 3\nbase_delay_s = 30\n"
    policy = load_config(write_config(text), environ=NO_ENV).retry
    assert policy.max_attempts == 3
    assert policy.base_delay == timedelta(seconds=30)
    assert policy.max_delay == timedelta(hours=1)

    error = problems_of(
        TDX_SECTION + "\n[retry]\nbase_delay_s = 10\nmax_delay_s = 5\n", write_config
    )
    assert keys(error) == ["retry"]
    assert "max_delay_s (5) at least base_delay_s (10)" in error.problems[0].expected


def test_one_bad_entry_does_not_hide_the_problems_of_the_others(
    write_config: WriteConfig,
) -> None:
    text = TDX_SECTION + (
        '[reports.1]\npipeline = "p"\n\n'
        '[[pipelines.p.actions]]\ntype = "comment"\noptions = "hello"\n\n'
        '[[pipelines.p.actions]]\ntype = "summary_comment"\nversion = "v 2"\n'
        "options = { separator = 3 }\n\n"
        "[pipelines.q]\nactions = []\n\n"
        '[lookups.labs_by_member]\nkind = "sqll"\n'
    )
    error = problems_of(text, write_config)

    found = {problem.key: problem for problem in error.problems}
    assert set(found) == {
        "pipelines.p.actions[0].options",
        "pipelines.p.actions[1].version",
        "pipelines.p.actions[1].options.separator",
        "pipelines.q.actions",
        "lookups.labs_by_member",
    }
    assert found["pipelines.p.actions[0].options"].expected == "a table"
    assert found["lookups.labs_by_member"].found == 'kind = "sqll"'
    assert found["lookups.labs_by_member"].expected == "kind one of 'tdx', 'sql'"
