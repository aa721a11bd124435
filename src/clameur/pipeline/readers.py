"""Readers for import files: each yields (line number, raw record) or (line number, error)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

FORMATS = ("jsonl", "csv", "twcs")
# CSV columns that fold into nested fields of the import schema.
_AUTHOR_COLUMNS = {
    "author": "handle",
    "author_handle": "handle",
    "author_name": "name",
    "author_followers": "followers",
    "author_verified": "verified",
}


@dataclass(slots=True)
class Record:
    """One line of an import file: the raw record, or why it could not be read."""

    line: int
    data: dict[str, Any] | None
    error: str | None = None


def guess_format(path: Path) -> str:
    """The format implied by the file name."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if suffix == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            header = handle.readline()
        return "twcs" if "in_response_to_tweet_id" in header else "csv"
    raise ValueError(f"cannot tell the format of {path.name}: use --format jsonl, csv or twcs")


def read_jsonl(path: Path) -> Iterator[Record]:
    """One JSON object per line; blank lines are skipped."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                # The standard parser names the problem (and accepts NaN, which orjson refuses).
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as error:
                    yield Record(number, None, f"invalid JSON: {error.msg} at column {error.colno}")
                    continue
            if not isinstance(data, dict):
                yield Record(number, None, "a line must be a JSON object")
                continue
            yield Record(number, data)


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "y", "oui", "vrai")


def csv_row_to_record(row: dict[str, str]) -> dict[str, Any]:
    """Fold flat CSV columns (author_*, metrics_*) into the import schema."""
    data: dict[str, Any] = {}
    author: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None:
            continue
        key = key.strip()
        if key in _AUTHOR_COLUMNS:
            field_name = _AUTHOR_COLUMNS[key]
            if field_name == "verified":
                author[field_name] = _truthy(value)
            elif value != "":
                author[field_name] = value
        elif key.startswith("metrics_") or key.startswith("metrics."):
            if value != "":
                metrics[key[8:]] = value
        elif value != "":
            data[key] = value
    if author:
        data["author"] = author
    if metrics:
        data["metrics"] = metrics
    return data


def read_csv(path: Path) -> Iterator[Record]:
    """A CSV file with a header row in the import schema's column names."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            # The header is line 1; multi-line quoted fields make line_num the last line read.
            number = reader.line_num
            if None in row:
                yield Record(number, None, "more fields than the header has columns")
                continue
            yield Record(number, csv_row_to_record(row))


def twcs_row_to_record(row: dict[str, str]) -> dict[str, Any]:
    """A row of the 'Customer Support on Twitter' export, as an import record (network x)."""
    inbound = row.get("inbound", "").strip().lower() == "true"
    handle = row.get("author_id", "").strip()
    tweet_id = row.get("tweet_id", "").strip()
    return {
        "id": tweet_id,
        "network": "x",
        "text": row.get("text", ""),
        "created_at": row.get("created_at", ""),
        "author": {"handle": handle, "name": handle} if handle else None,
        "in_reply_to": (row.get("in_response_to_tweet_id") or "").split(".")[0] or None,
        "conversation_id": (row.get("thread_id") or "").strip() or None,
        "url": f"https://x.com/{handle}/status/{tweet_id}" if handle and tweet_id else None,
        "inbound": inbound,
    }


def read_twcs(path: Path) -> Iterator[Record]:
    """The twcs CSV export: tweet_id, author_id, inbound, created_at, text, reply links."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"tweet_id", "author_id", "created_at", "text"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"not a twcs file: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            yield Record(reader.line_num, twcs_row_to_record(row))


def read_records(path: Path, fmt: str) -> Iterator[Record]:
    """Read an import file in the given format."""
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "twcs":
        return read_twcs(path)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
