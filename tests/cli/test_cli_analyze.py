from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from builders import make_record
from clameur.cli.main import app

runner = CliRunner()


def test_analyze_writes_one_result_per_post_and_skips_bad_lines(tmp_path: Path) -> None:
    wave = "Billets pas chers pour le festival, paiement immédiat, écrivez-moi en privé vite"
    source = tmp_path / "posts.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps(make_record(id="a", text=wave)),
                "{broken",
                json.dumps(make_record(id="b", text="RT @bot: " + wave)),
                json.dumps(make_record(id="c", text="I love this festival, amazing line-up!")),
            ]
        )
        + "\n"
    )
    output = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["analyze", "--input", str(source), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "line 2" in result.output
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["a", "b", "c"]
    assert set(rows[0]) == {
        "id",
        "lang",
        "sentiment",
        "intents",
        "hostile",
        "duplicate_of",
        "influence",
    }
    assert rows[1]["duplicate_of"] == "a"
    assert rows[2]["sentiment"]["label"] == "positive"
    assert 0.0 <= rows[2]["sentiment"]["score"] <= 1.0
    assert rows[2]["lang"] == "en"
