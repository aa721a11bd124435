"""The connectors' texts on the account pages (requirements, limitations, the settings form's
titles and help) are English sentences translated by the catalogues, like the interface's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from markupsafe import escape
from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import save_account, secret_box
from clameur.connectors import registry
from clameur.kit.errors import ClameurError
from clameur.models import Role
from clameur.store.engine import unit_of_work

TRANSLATIONS = Path(__file__).parents[2] / "src" / "clameur" / "web" / "translations"


def connector_texts(network: str) -> list[str]:
    """Every connector sentence the account pages show for `network`."""
    kind = registry.get(network)
    texts = [kind.limitations, kind.config_model.requirements]
    for field in kind.config_model.form_fields():
        texts += [field.title, field.description]
    return [text for text in texts if text]


def installed_networks() -> list[str]:
    networks = []
    for network in registry.networks():
        try:
            registry.get(network)
        except ClameurError:
            continue
        networks.append(network)
    return networks


def catalogue(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=locale)


def test_every_connector_text_has_its_french_words() -> None:
    """A sentence added to a connector without its French fails here, not in front of a user."""
    french = catalogue("fr")
    texts = {text for network in installed_networks() for text in connector_texts(network)}
    assert len(texts) > 50
    missing = sorted(
        text
        for text in texts
        if (entry := french.get(text)) is None or not entry.string or entry.fuzzy
    )
    assert missing == []


def test_every_connector_text_is_in_the_english_catalogue() -> None:
    english = catalogue("en")
    texts = {text for network in installed_networks() for text in connector_texts(network)}
    missing = sorted(text for text in texts if english.get(text) is None)
    assert missing == []


def _sign_in(client: Any, build: Any, locale: str) -> Any:
    build.user("mia@example.com", Role.manager, "Mia Manager", locale)
    assert client.sign_in("mia@example.com").status_code == 303
    return client


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_connect_form_speaks_the_managers_language(
    client: Any, build: Any, workspace: int, locale: str
) -> None:
    client = _sign_in(client, build, locale)
    page = client.get("/settings/accounts/new/x")
    assert page.status_code == 200
    translations = client.app.state.renderer.translations[locale]
    for text in connector_texts("x"):
        assert str(escape(translations.gettext(text))) in page.text
    if locale == "fr":
        english_only = [t for t in connector_texts("x") if translations.gettext(t) != t]
        assert len(english_only) > 5
        assert not [t for t in english_only if str(escape(t)) in page.text]


def test_a_connector_text_is_shown_as_text_not_markup(
    client: Any, build: Any, workspace: int
) -> None:
    """LinkedIn's help names the admin address with a placeholder in angle brackets."""
    client = _sign_in(client, build, "en")
    page = client.get("/settings/accounts/new/linkedin").text
    assert "linkedin.com/company/&lt;number&gt;/admin" in page


def test_a_french_manager_reads_the_networks_limits_in_french(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    box = secret_box(client.app.state.settings)
    with unit_of_work(factory) as session:
        save_account(
            session,
            box,
            workspace,
            "rss",
            {"account_name": "News", "feeds": "https://example.org/feed.xml"},
        )
    client = _sign_in(client, build, "fr")
    page = client.get("/settings/accounts").text
    limits = registry.get("rss").limitations
    french = client.app.state.renderer.translations["fr"].gettext(limits)
    assert french != limits
    assert str(escape(french)) in page and str(escape(limits)) not in page
