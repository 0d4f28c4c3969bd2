"""td> and its family on pluggable backends: ``local`` (DuckDB, the default), ``sql`` (any
SQLAlchemy URL) and ``treasuredata`` (the real REST API). See docs/td.md."""

from .operator import TdOperator

__all__ = ["TdOperator"]
