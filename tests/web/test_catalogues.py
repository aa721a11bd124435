"""The catalogues: every interface string has its French translation; no binary is shipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from clameur.web.i18n import LOCALES, load_translations

WEB = Path(__file__).parents[2] / "src" / "clameur" / "web"


def interface_strings() -> set[str | tuple[str, str]]:
    methods = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            WEB, methods, options_map=options, keywords=keywords
        )
    }


def catalogue(locale: str):
    with (WEB / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_interface_string_is_translated(locale):
    translated = catalogue(locale)
    missing = []
    for message in interface_strings():
        entry = translated.get(message if isinstance(message, str) else message[0])
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(message)
        elif isinstance(entry.string, tuple) and not all(entry.string):
            missing.append(message)
    assert missing == []


def test_the_catalogues_compile_in_memory():
    translations = load_translations()
    assert translations["fr"].gettext("Saved queries") == "Requêtes enregistrées"
    assert translations["en"].gettext("Saved queries") == "Saved queries"
    assert translations["fr"].ngettext("%(num)s new post", "%(num)s new posts", 2) == (
        "%(num)s nouvelles publications"
    )


def test_no_compiled_catalogue_is_shipped():
    assert list((WEB / "translations").rglob("*.mo")) == []
