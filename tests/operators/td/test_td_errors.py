"""What a workflow author reads when a td> task is wrong: the mistake, where, and a remedy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digpy.spi import ConfigError, TaskFailed

VALUES = "SELECT 1 AS id"


@pytest.mark.parametrize(("options", "message"), [
    ({"insert_into": "a", "create_table": "b"},
     "Setting both insert_into and create_table is invalid"),
    ({"download_file": "x.csv", "insert_into": "a"},
     "download_file is invalid if insert_into or create_table is set"),
    ({"download_file": "x.csv", "create_table": "a"},
     "download_file is invalid if insert_into or create_table is set"),
    ({"result_settings": {"a": 1}}, "result_settings is valid only if result_connection is set"),
    ({"result_url": "s3://bucket/x"}, "'result_url' is not supported by the local backend"),
    ({"result_connection": "my_s3"}, "'result_connection' is not supported by the local backend"),
    ({"engine": "spark"}, "Unknown 'engine:' option"),
    ({"priority": 5}, "'priority' must be between -2 and 2"),
    ({"store_last_results": "yes"}, "'store_last_results' must be true or false"),
    ({"td": {"backend": "cloud"}}, "td.backend must be one of local, sql, treasuredata"),
    ({"td": {}}, "td> needs a database"),
])
def test_bad_options_are_config_errors_with_digdags_message(td: Any, options: dict,
                                                             message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        td({"query": VALUES, **options})


def test_a_missing_query_says_how_to_give_one(td: Any) -> None:
    with pytest.raises(ConfigError, match="td> needs a query"):
        td({})


def test_a_missing_sql_file_suggests_nearby_sql_files(td: Any, project: Path) -> None:
    (project / "queries").mkdir()
    (project / "queries" / "daily_orders.sql").write_text("SELECT 1")
    with pytest.raises(ConfigError) as err:
        td({"_command": "queries/daily_order.sql"})
    assert "query file 'queries/daily_order.sql' does not exist" in str(err.value)
    assert err.value.suggestions == ("queries/daily_orders.sql",)


def test_a_query_file_outside_the_project_is_refused(td: Any) -> None:
    with pytest.raises(ConfigError, match="outside of the project"):
        td({"_command": "../secret.sql"})


def test_a_syntax_error_names_the_line_and_quotes_it(td: Any, project: Path) -> None:
    (project / "bad.sql").write_text("SELECT id,\n  name\nFROM\nWHERE id = 1\n")
    with pytest.raises(TaskFailed) as err:
        td({"_command": "bad.sql"})
    text = str(err.value)
    assert text.startswith("SQL syntax error at line 10:")  # 6 header lines + line 4
    assert "10 | WHERE id = 1" in text


def test_a_database_error_shows_the_backends_message_and_the_statement_line(td: Any) -> None:
    with pytest.raises(TaskFailed) as err:
        td({"query": "SELECT 1;\nSELECT * FROM no_such_table"})
    text = str(err.value)
    assert "Table with name no_such_table does not exist" in text
    assert "8 | SELECT * FROM no_such_table" in text


def test_an_unknown_database_is_named_with_the_existing_ones(td: Any) -> None:
    with pytest.raises(TaskFailed) as err:
        td({"query": VALUES, "database": "dbb"})
    assert "Database 'dbb' does not exist" in str(err.value)
    assert "did you mean 'db'?" in str(err.value)
