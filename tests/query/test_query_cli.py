"""`clameur query check` and `clameur query match`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from clameur.cli.query import app

runner = CliRunner()


def write_posts(path: Path, *lines: object) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_match_prints_the_ids_of_matching_posts_one_per_line(tmp_path):
    posts = write_posts(
        tmp_path / "posts.jsonl",
        {"id": "a1", "network": "x", "text": "Le café était froid"},
        {"id": "a2", "network": "x", "text": "Un thé"},
        {"id": 3, "network": "x", "text": "L'hôtel et son café"},
    )
    result = runner.invoke(app, ["match", "cafe", "--input", str(posts)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["a1", "3"]


def test_match_uses_the_fields_of_each_post(tmp_path):
    posts = write_posts(
        tmp_path / "posts.jsonl",
        {"id": "1", "network": "instagram", "text": "nul", "author": {"handle": "@Alice"}},
        {"id": "2", "network": "x", "text": "nul", "author": "alice", "lang": "fr"},
        {"id": "3", "network": "x", "text": "nul", "sentiment": "negative",
         "intents": ["complaint"]},
    )  # fmt: skip

    def ids(query: str) -> list[str]:
        return runner.invoke(app, ["match", query, "--input", str(posts)]).stdout.splitlines()

    assert ids("author:@alice") == ["1", "2"]
    assert ids("network:instagram") == ["1"]
    assert ids("lang:fr") == ["2"]
    assert ids("sentiment:negative intent:complaint") == ["3"]


def test_match_warns_about_bad_lines_with_their_number_and_goes_on(tmp_path):
    posts = write_posts(
        tmp_path / "posts.jsonl",
        "{not json",
        {"id": "1", "network": "x"},
        {"id": "2", "network": "x", "text": "cafe"},
    )
    result = runner.invoke(app, ["match", "cafe", "--input", str(posts)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["2"]
    assert "line 1" in result.stderr
    assert "line 2" in result.stderr


def test_match_refuses_a_bad_query_with_exit_code_2_and_the_message(tmp_path):
    posts = write_posts(tmp_path / "posts.jsonl", {"id": "1", "text": "cafe"})
    result = runner.invoke(app, ["match", "(cafe", "--input", str(posts)])
    assert result.exit_code == 2
    assert "unbalanced parenthesis at position 1" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_match_reports_a_missing_file_without_a_traceback(tmp_path):
    result = runner.invoke(app, ["match", "cafe", "--input", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_match_reads_standard_input_when_the_input_is_a_dash():
    lines = json.dumps({"id": "9", "text": "cafe"}) + "\n"
    result = runner.invoke(app, ["match", "cafe", "--input", "-"], input=lines)
    assert result.stdout.splitlines() == ["9"]


def test_a_query_starting_with_a_minus_sign_follows_a_double_dash(tmp_path):
    posts = write_posts(tmp_path / "posts.jsonl", {"id": "1", "text": "cafe"},
                        {"id": "2", "text": "the"})  # fmt: skip
    result = runner.invoke(app, ["match", "--input", str(posts), "--", "-cafe"])
    assert result.stdout.splitlines() == ["2"]


def test_check_prints_the_tree_and_the_full_text_clauses():
    result = runner.invoke(app, ["check", "(cafe OR rembours*) -#spam"])
    assert result.exit_code == 0
    assert "OR (any of)" in result.stdout
    assert "prefix rembours*" in result.stdout
    assert "hashtag #spam" in result.stdout
    assert "  cafe\n  rembours*\n" in result.stdout


def test_check_says_when_no_full_text_restriction_exists():
    result = runner.invoke(app, ["check", "lang:fr"])
    assert "full-text prefilter: none" in result.stdout


def test_check_refuses_a_bad_query_with_exit_code_2_and_a_caret():
    result = runner.invoke(app, ["check", "cafe AND"])
    assert result.exit_code == 2
    assert "operator without operand at position 6" in result.stderr
    assert "cafe AND\n     ^" in result.stderr
