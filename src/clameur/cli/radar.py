"""`clameur radar`: score a count series with the radar's anomaly detector."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, TextIO

import typer

from clameur.radar.detector import SeriesDetector

app = typer.Typer(help="The radar: anomaly scores of mention series.", no_args_is_help=True)


class SeriesFileError(ValueError):
    """A malformed line in a `timestamp,value` file, with its line number."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line


def read_points(handle: TextIO) -> Iterator[tuple[int, datetime, str, float]]:
    """Yield (line number, timestamp, timestamp as written, value) from a CSV with a header."""
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise SeriesFileError(1, "the file is empty (expected a header 'timestamp,value')")
    names = [name.strip().lower() for name in header]
    if "timestamp" not in names or "value" not in names:
        raise SeriesFileError(1, f"header must name 'timestamp' and 'value', got {header}")
    at_time, at_value = names.index("timestamp"), names.index("value")
    previous: datetime | None = None
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) <= max(at_time, at_value):
            raise SeriesFileError(line, f"expected {len(names)} columns, got {len(row)}")
        written = row[at_time].strip()
        try:
            moment = datetime.fromisoformat(written)
        except ValueError:
            raise SeriesFileError(
                line, f"timestamp {written!r} is not ISO 8601 (YYYY-MM-DD HH:MM:SS)"
            ) from None
        try:
            value = float(row[at_value])
        except ValueError:
            raise SeriesFileError(line, f"value {row[at_value]!r} is not a number") from None
        if value != value or value < 0:
            raise SeriesFileError(line, f"value {row[at_value]!r} must be a count (>= 0)")
        if previous is not None and moment <= previous:
            raise SeriesFileError(line, f"timestamp {written} is not after the previous one")
        previous = moment
        yield line, moment, written, value


def score_stream(source: TextIO, target: TextIO) -> int:
    """Score every point of `source` in one causal pass; write the scored CSV; return the count."""
    detector = SeriesDetector()
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(["timestamp", "value", "anomaly_score"])
    count = 0
    for line, moment, written, value in read_points(source):
        try:
            reading = detector.update(moment, value)
        except ValueError as error:
            raise SeriesFileError(line, str(error)) from None
        writer.writerow([written, f"{value:g}", f"{reading.score:.6f}"])
        count += 1
    return count


@app.command()
def score(
    input_file: Annotated[
        Path, typer.Option("--input", "-i", help="CSV with a header: timestamp,value.")
    ],
    output_file: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write timestamp,value,anomaly_score.")
    ],
) -> None:
    """Score a series of bucketed counts (5-minute buckets), each point seeing only the past."""
    if not input_file.is_file():
        typer.echo(f"error: {input_file} is not a file", err=True)
        raise typer.Exit(code=2)
    partial = output_file.with_name(output_file.name + ".partial")
    try:
        with (
            input_file.open(newline="", encoding="utf-8") as source,
            partial.open("w", newline="", encoding="utf-8") as target,
        ):
            count = score_stream(source, target)
    except SeriesFileError as error:
        partial.unlink(missing_ok=True)
        typer.echo(f"error: {input_file}: {error}", err=True)
        raise typer.Exit(code=1) from None
    except UnicodeDecodeError:
        partial.unlink(missing_ok=True)
        typer.echo(f"error: {input_file}: not UTF-8 text", err=True)
        raise typer.Exit(code=1) from None
    partial.replace(output_file)
    typer.echo(f"scored {count} points -> {output_file}")
