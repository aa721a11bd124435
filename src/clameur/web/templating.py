"""Jinja2 rendering: one environment per interface language, with Babel's translations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from clameur.inbox.outbox import answers_in_private
from clameur.pipeline.schemas import INTENTS, SENTIMENTS
from clameur.web.cards import corrections_of, influence_of, toggled
from clameur.web.csrf import HEADER, csrf_token
from clameur.web.i18n import LOCALES, Formats, pick_locale, zone
from clameur.web.icons import icon, icon_sprite

TEMPLATES = Path(__file__).parent / "templates"

NETWORK_LABELS = {
    "x": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "reddit": "Reddit",
    "youtube": "YouTube",
    "rss": "RSS",
    "demo": "Demo",
    "import": "Import",
}


def _initials(name: str) -> str:
    parts = [part for part in name.replace("_", " ").split() if part[:1].isalnum()]
    if not parts:
        return (name[:1] or "?").upper()
    return "".join(part[0] for part in parts[:2]).upper()


def _hue(text: str) -> int:
    # A stable colour per author, so the same person is recognisable down the feed.
    return sum(ord(char) * (index + 1) for index, char in enumerate(text)) % 360


@dataclass(frozen=True, slots=True)
class Location:
    """Where a 1-based position falls in a (possibly multi-line) text."""

    line_number: int
    column: int
    line: str


def locate(source: str, position: int) -> Location:
    """The line and column of a 1-based character position, for a caret under the query."""
    index = min(max(0, position - 1), len(source))
    start = source.rfind("\n", 0, index) + 1
    end = source.find("\n", index)
    line = source[start : end if end != -1 else len(source)]
    return Location(source.count("\n", 0, index) + 1, index - start + 1, line.replace("\t", " "))


def _query_string(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    return urlencode(
        [(key, value) for key, value in merged.items() if value not in (None, "", [])], doseq=True
    )


class Renderer:
    """Renders templates in the request's language."""

    def __init__(self, translations: dict[str, Translations], default_locale: str) -> None:
        self.translations = translations
        self.default_locale = default_locale
        self.environments = {locale: self._environment(translations[locale]) for locale in LOCALES}

    @staticmethod
    def _environment(translations: Translations) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        environment.globals.update(
            networks=NETWORK_LABELS,
            initials=_initials,
            hue=_hue,
            query_string=_query_string,
            locate=locate,
            csrf_header=HEADER,
            locales=LOCALES,
            all_sentiments=SENTIMENTS,
            all_intents=INTENTS,
            corrections_of=corrections_of,
            influence_of=influence_of,
            toggled=toggled,
            icon=icon,
            icon_sprite=icon_sprite,
            answers_in_private=answers_in_private,
        )
        return environment

    def locale_of(self, request: Request) -> str:
        """The user's language, else the one chosen before login, else the default."""
        return pick_locale(
            getattr(request.state, "locale", None),
            request.session.get("locale"),
            default=self.default_locale,
        )

    def formats(self, request: Request) -> Formats:
        """Dates and numbers as the request's reader expects them, in the workspace's zone."""
        locale = self.locale_of(request)
        workspace = getattr(request.state, "workspace", None)
        timezone = zone(getattr(workspace, "timezone", None))
        return Formats(locale, timezone, self.translations[locale])

    def render_text(self, request: Request, name: str, **context: Any) -> str:
        """The template rendered to a string."""
        formats = self.formats(request)
        locale = formats.locale
        workspace = getattr(request.state, "workspace", None)
        template = self.environments[locale].get_template(name)
        return template.render(
            request=request,
            locale=locale,
            fmt=formats,
            csrf_token=csrf_token(request),
            user=getattr(request.state, "user", None),
            workspace=workspace,
            workspaces=getattr(request.state, "workspaces", []),
            is_htmx=request.headers.get("HX-Request") == "true",
            **context,
        )

    def render(
        self,
        request: Request,
        name: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """An HTML response of the template."""
        return HTMLResponse(
            self.render_text(request, name, **context), status_code=status_code, headers=headers
        )


def renderer(request: Request) -> Renderer:
    """The application's renderer."""
    return request.app.state.renderer  # type: ignore[no-any-return]
