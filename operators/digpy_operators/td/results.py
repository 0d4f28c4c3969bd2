"""What td> does with a job's rows: download_file (Digdag's CSV), preview (20 rows to the log)
and store_last_results (the first row as a map, checked to be a small JSON value)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from digpy.spi import TaskFailed

PREVIEW_ROWS = 20
MAX_LAST_RESULTS_BYTES = 64 * 1024


class NotJson(ValueError):
    pass


def json_value(value: Any) -> Any:
    """A result value as TD hands it out (msgpack → JSON): dates and decimals become text or
    numbers; bytes and other objects cannot be stored as params and raise NotJson."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise NotJson(f"{value} is not a JSON number")
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    raise NotJson(f"a {type(value).__name__} value")


def last_results(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The first row as ``{column: value}`` (``{}`` without rows), or TaskFailed when it cannot
    be a param: a value that is not JSON, or more than 64 KiB of JSON."""
    first = next(iter(rows), None)
    if first is None:
        return {}
    out: dict[str, Any] = {}
    for name, value in zip(columns, first, strict=False):
        try:
            out[name] = json_value(value)
        except NotJson as exc:
            raise TaskFailed(f"store_last_results: column '{name}' holds {exc}, which cannot be "
                             "stored as a parameter; cast it to varchar in the query") from None
    size = len(json.dumps(out, ensure_ascii=False).encode("utf-8"))
    if size > MAX_LAST_RESULTS_BYTES:
        raise TaskFailed(f"store_last_results: the first row is {size} bytes of JSON, over the "
                         f"{MAX_LAST_RESULTS_BYTES // 1024} KiB limit for a stored parameter; "
                         "select fewer or smaller columns, or use download_file")
    return out


# ---- CSV exactly as Digdag writes it (TdOperatorFactory.addCsvValue / escapeAndQuoteCsvValue)


def csv_text(value: str) -> str:
    if value == "":
        return '""'
    out: list[str] = []
    quote = False
    previous = " "
    for ch in value:
        if ch == '"':
            out.append('""')
            quote = True
        elif ch == "\r":
            out.append("\n")
            quote = True
        elif ch == "\n":
            if previous != "\r":
                out.append("\n")
                quote = True
        elif ch == ",":
            out.append(ch)
            quote = True
        else:
            out.append(ch)
        previous = ch
    text = "".join(out)
    return f'"{text}"' if quote else text


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    try:
        converted = json_value(value)
    except NotJson:
        converted = str(value)
    if isinstance(converted, str):  # dates: TD returns them as strings
        return csv_text(converted)
    return csv_text(json.dumps(converted, ensure_ascii=False, separators=(",", ":")))


def csv_line(values: Iterable[Any]) -> str:
    return ",".join(csv_value(v) for v in values) + "\r\n"


def write_csv(path: Path, columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(csv_text(c) for c in columns) + "\r\n")
        for row in rows:
            out.write(csv_line(row))
            count += 1
    return count


def preview_text(description: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    first = list(islice(rows, PREVIEW_ROWS))
    if not first:
        return f"preview of {description}: (no results)\n"
    body = ",".join(csv_text(c) for c in columns) + "\r\n" + "".join(csv_line(r) for r in first)
    return f"preview of {description}:\r\n{body}"
