"""The TD REST API TEST DOUBLE (td_api_double.py) extended with what the td> family calls —
still not the real service:

* ``GET /v3/database/list``, ``POST /v3/database/create/{db}`` (409 when it exists),
  ``POST /v3/database/delete/{db}`` (404 when missing, and its tables go too);
* ``GET /v3/table/list/{db}`` (404 for an unknown database), ``POST /v3/table/delete/{db}/{t}``
  (404 when missing), ``POST /v3/table/rename/{db}/{from}/{to}`` (overwrite=true replaces
  ``to``; 404 when ``from`` is missing); table creation checks that the database exists;
* ``POST /v3/schedule/run/{name}/{time}`` (form: num, domain_key): starts the saved query
  ``saved_queries[name]`` (its SQL) as a job scheduled at ``time``; 404 for an unknown name,
  409 for a domain key used before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from td_api_double import TdApiDouble, _form


@dataclass
class TdFamilyDouble(TdApiDouble):
    databases: set[str] = field(default_factory=lambda: {"sample_db"})
    saved_queries: dict[str, str] = field(default_factory=dict)

    def list_databases(self) -> tuple[int, Any]:
        return 200, {"databases": [{"name": d, "count": 0} for d in sorted(self.databases)]}

    def create_database(self, database: str) -> tuple[int, Any]:
        if database in self.databases:
            return 409, {"error": f"Database {database} already exists"}
        self.databases.add(database)
        return 200, {"database": database}

    def delete_database(self, database: str) -> tuple[int, Any]:
        if database not in self.databases:
            return 404, {"error": f"Database {database} does not exist"}
        self.databases.discard(database)
        self.tables = {t for t in self.tables if t[0] != database}
        return 200, {"database": database}

    def create_table(self, database: str, table: str) -> tuple[int, Any]:
        if database not in self.databases:
            return 404, {"error": f"Database {database} does not exist"}
        return super().create_table(database, table)

    def list_tables(self, database: str) -> tuple[int, Any]:
        if database not in self.databases:
            return 404, {"error": f"Database {database} does not exist"}
        names = sorted(t for d, t in self.tables if d == database)
        return 200, {"database": database, "tables": [
            {"name": n, "type": "log", "count": 0, "estimated_storage_size": 0,
             "schema": "[]"} for n in names]}

    def delete_table(self, database: str, table: str) -> tuple[int, Any]:
        if (database, table) not in self.tables:
            return 404, {"error": f"Table {table} does not exist"}
        self.tables.discard((database, table))
        return 200, {"database": database, "table": table, "type": "log"}

    def rename_table(self, database: str, old: str, new: str, form: dict[str, str]
                     ) -> tuple[int, Any]:
        if (database, old) not in self.tables:
            return 404, {"error": f"Table {old} does not exist"}
        if (database, new) in self.tables and form.get("overwrite") != "true":
            return 409, {"error": f"Table {new} already exists"}
        self.tables.discard((database, old))
        self.tables.add((database, new))
        return 200, {"database": database, "table": new}

    def run_saved_query(self, name: str, time: str, form: dict[str, str]) -> tuple[int, Any]:
        if name not in self.saved_queries:
            return 404, {"error": f"Schedule {name} does not exist"}
        status, body = self.issue("presto", "sample_db", {
            "query": self.saved_queries[name], "scheduled_time": time,
            **({"domain_key": form["domain_key"]} if "domain_key" in form else {})})
        if status != 200:
            return status, body
        return 200, {"jobs": [{"job_id": body["job_id"], "type": "presto",
                               "scheduled_at": "2016-01-30 00:00:00 UTC"}]}

    def _route(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        match (method, parts):
            case ("GET", ["database", "list"]):
                return self.list_databases()
            case ("POST", ["database", "create", database]):
                return self.create_database(database)
            case ("POST", ["database", "delete", database]):
                return self.delete_database(database)
            case ("GET", ["table", "list", database]):
                return self.list_tables(database)
            case ("POST", ["table", "delete", database, table]):
                return self.delete_table(database, table)
            case ("POST", ["table", "rename", database, old, new]):
                return self.rename_table(database, old, new, _form(headers, body))
            case ("POST", ["schedule", "run", name, time]):
                return self.run_saved_query(name, time, _form(headers, body))
        return super()._route(method, path, headers, body)
