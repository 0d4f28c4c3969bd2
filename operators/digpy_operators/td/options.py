"""td> options, read as Digdag reads them: the task's params over the ``td:`` namespace map.

Backend choice (a digpy addition) is read from the ``td`` namespace only — ``td.backend`` and
``td.url`` — so a generic top-level param named ``backend`` or ``url`` never switches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from digpy.spi import ConfigError, SecretProvider

from .statement import TableRef

BACKENDS = ("local", "sql", "treasuredata")
ENGINES = ("presto", "hive")


def merged_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """Digdag's ``config.mergeDefault(config.getNestedOrGetEmpty("td"))``."""
    namespace = config.get("td")
    base = dict(namespace) if isinstance(namespace, Mapping) else {}
    base.update(config)
    return base


def namespace(config: Mapping[str, Any]) -> Mapping[str, Any]:
    value = config.get("td")
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """Where jobs go: the backend and what it needs (the database is per job)."""

    backend: str
    url: str | None = None  # sql backend: a SQLAlchemy URL
    apikey: str | None = None  # treasuredata backend
    endpoint: str = "api.treasuredata.com"
    use_ssl: bool = True


def connection(config: Mapping[str, Any], secrets: SecretProvider) -> Connection:
    ns = namespace(config)
    params = merged_params(config)
    backend = str(ns.get("backend") or "local").strip().lower()
    if backend not in BACKENDS:
        raise ConfigError(f"td.backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "sql":
        url = secrets.get("td.url") or ns.get("url")
        if not url:
            raise ConfigError("td.backend: sql needs a SQLAlchemy URL in td.url (a param or "
                              "the secret td.url), e.g. postgresql+psycopg://user@host/db")
        return Connection(backend=backend, url=str(url))
    if backend == "treasuredata":
        apikey = secrets.get("td.apikey")
        if not apikey:
            raise ConfigError("The 'td.apikey' secret is missing")
        endpoint = secrets.get("td.endpoint") or params.get("endpoint") or "api.treasuredata.com"
        return Connection(backend=backend, apikey=apikey, endpoint=str(endpoint),
                          use_ssl=boolean(params, "use_ssl", True))
    return Connection(backend=backend)


def database(params: Mapping[str, Any], secrets: SecretProvider) -> str:
    """The secret ``td.database`` overrides ``database`` / ``td.database`` (Digdag)."""
    value = secrets.get("td.database") or params.get("database")
    if value is None or not str(value).strip():
        raise ConfigError("td> needs a database: set 'database:' on the task or "
                          "'_export: {td: {database: ...}}'")
    return str(value).strip()


def boolean(params: Mapping[str, Any], key: str, default: bool) -> bool:
    value = params.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"'{key}' must be true or false, got {value!r}")


def integer(params: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"'{key}' must be an integer, got {value!r}") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise ConfigError(f"'{key}' must be between {low} and {high}, got {value!r}")
    return number


def optional_str(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"'{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def optional_table(params: Mapping[str, Any], key: str) -> TableRef | None:
    value = params.get(key)
    return None if value is None else TableRef.parse(value, key)


def engine(params: Mapping[str, Any]) -> str:
    value = str(params.get("engine") or "presto").strip().lower()
    if value not in ENGINES:
        raise ConfigError("Unknown 'engine:' option (available options are: hive and presto): "
                          f"{value}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryOptions:
    """td>'s own options (td_run>, td_for_each> and td_wait> read subsets)."""

    engine: str
    insert_into: TableRef | None
    create_table: TableRef | None
    download_file: str | None
    store_last_results: bool
    preview: bool
    priority: int
    job_retry: int
    result_url: str | None
    result_connection: str | None
    result_settings: Any
    pool_name: str | None
    engine_version: str | None

    @property
    def target(self) -> TableRef | None:
        return self.insert_into or self.create_table


def query_options(params: Mapping[str, Any]) -> QueryOptions:
    eng = engine(params)
    opts = QueryOptions(
        engine=eng,
        insert_into=optional_table(params, "insert_into"),
        create_table=optional_table(params, "create_table"),
        download_file=optional_str(params, "download_file"),
        store_last_results=boolean(params, "store_last_results", False),
        preview=boolean(params, "preview", False),
        priority=integer(params, "priority", 0, -2, 2),
        job_retry=integer(params, "job_retry", 0, 0, 1000),
        result_url=optional_str(params, "result_url"),
        result_connection=optional_str(params, "result_connection"),
        result_settings=params.get("result_settings"),
        pool_name=optional_str(params, f"{eng}_pool_name"),
        engine_version=optional_str(params, "engine_version"),
    )
    _check_exclusions(opts)
    return opts


def _check_exclusions(opts: QueryOptions) -> None:
    # Messages are Digdag's, so searching for them finds Digdag's docs too.
    if opts.insert_into and opts.create_table:
        raise ConfigError("Setting both insert_into and create_table is invalid")
    if opts.download_file and opts.target:
        raise ConfigError("download_file is invalid if insert_into or create_table is set")
    if opts.result_settings is not None and not opts.result_connection:
        raise ConfigError("result_settings is valid only if result_connection is set")
