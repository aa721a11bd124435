"""`clameur radar score`: a CSV in, the same rows with their anomaly scores out."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from clameur.cli.main import app

runner = CliRunner()


def write_series(path: Path, values: list[int]) -> None:
    start = datetime(2015, 3, 2, 0, 2, 53)
    lines = ["timestamp,value"]
    lines += [
        f"{start + i * timedelta(minutes=5):%Y-%m-%d %H:%M:%S},{v}" for i, v in enumerate(values)
    ]
    path.write_text("\n".join(lines) + "\n")


def scored(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_scoring_half_a_file_gives_the_scores_of_the_whole_file_for_that_half(
    tmp_path: Path,
) -> None:
    values = [(i * 37) % 11 + (400 if 700 <= i < 705 else 0) for i in range(800)]
    write_series(tmp_path / "full.csv", values)
    write_series(tmp_path / "half.csv", values[:400])
    for name in ("full", "half"):
        result = runner.invoke(
            app,
            [
                "radar",
                "score",
                "--input",
                str(tmp_path / f"{name}.csv"),
                "--output",
                str(tmp_path / f"{name}.out.csv"),
            ],
        )
        assert result.exit_code == 0, result.output
    full, half = scored(tmp_path / "full.out.csv"), scored(tmp_path / "half.out.csv")
    assert list(full[0]) == ["timestamp", "value", "anomaly_score"]
    assert len(full) == 800 and half == full[:400]
    assert full[0]["timestamp"] == "2015-03-02 00:02:53" and full[0]["value"] == "0"
    spike = max(range(800), key=lambda i: float(full[i]["anomaly_score"]))
    assert spike == 700


def test_a_malformed_line_is_reported_with_its_number_and_no_output_is_left(
    tmp_path: Path,
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("timestamp,value\n2015-03-02 00:00:00,3\n2015-03-02 00:05:00,lots\n")
    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["radar", "score", "-i", str(source), "-o", str(target)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "'lots' is not a number" in result.output
    assert not target.exists() and not (tmp_path / "out.csv.partial").exists()


def test_timestamps_out_of_order_and_a_bad_header_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "order.csv"
    source.write_text("timestamp,value\n2015-03-02 00:05:00,3\n2015-03-02 00:00:00,4\n")
    result = runner.invoke(app, ["radar", "score", "-i", str(source), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "line 3" in result.output and "not after" in result.output
    source.write_text("time,count\n2015-03-02 00:05:00,3\n")
    result = runner.invoke(app, ["radar", "score", "-i", str(source), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "line 1" in result.output
