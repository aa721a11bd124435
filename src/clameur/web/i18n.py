"""The interface languages: catalogues compiled in memory at start-up, and locale-aware formats."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_compact_decimal, format_decimal
from babel.support import Translations

from clameur.kit.time import utcnow

LOCALES = ("fr", "en")
# The methods of Formats named datetime and date would shadow the types in annotations.
Instant = datetime
TRANSLATIONS = Path(__file__).parent / "translations"


def load_translations(directory: Path = TRANSLATIONS) -> dict[str, Translations]:
    """Compile each locale's messages.po in memory, so that no binary file is shipped."""
    catalogues: dict[str, Translations] = {}
    for locale in LOCALES:
        with (directory / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalog = read_po(source, locale=locale)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        catalogues[locale] = Translations(fp=buffer)
    return catalogues


def pick_locale(*choices: str | None, default: str = "fr") -> str:
    """The first supported locale among the choices, else the default."""
    for choice in choices:
        if choice and choice in LOCALES:
            return choice
    return default if default in LOCALES else LOCALES[0]


def zone(name: str | None) -> tzinfo:
    """The time zone called `name`, UTC if unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=16384)
def _number(value: float, locale: str, pattern: str | None) -> str:
    """A number formatted by Babel, once per (value, locale, pattern): a page shows many cards
    with the same counts and scores, and Babel takes tens of microseconds a number."""
    if pattern == "compact":
        if value < 10_000:
            return format_decimal(value, locale=locale)
        return format_compact_decimal(value, locale=locale, fraction_digits=1)
    return format_decimal(value, format=pattern, locale=locale)


class Formats:
    """Dates and numbers written the way a reader of `locale` expects, in the workspace's zone."""

    def __init__(self, locale: str, timezone: tzinfo, translations: Translations) -> None:
        self.locale = locale
        self.timezone = timezone
        self.gettext = translations.gettext
        # Babel's functions parse a locale name at each call: give them the parsed one.
        self._babel = Locale.parse(locale)

    def relative(self, moment: Instant, now: Instant | None = None) -> str:
        """'3 minutes ago' / 'il y a 3 minutes'."""
        delta = moment - (now or utcnow())
        if abs(delta.total_seconds()) < 45:
            return self.gettext("just now")
        return format_timedelta(delta, add_direction=True, locale=self._babel, threshold=1)

    def datetime(self, moment: Instant, style: str = "medium") -> str:
        """The full date and time, in the workspace's time zone."""
        return format_datetime(moment, style, tzinfo=self.timezone, locale=self._babel)

    def date(self, moment: Instant, style: str = "medium") -> str:
        """The date alone, in the workspace's time zone."""
        return format_date(moment.astimezone(self.timezone), style, locale=self._babel)

    def compact(self, value: int) -> str:
        """12.3K / 12,3 k."""
        return _number(value, self.locale, "compact")

    def number(self, value: int) -> str:
        """A whole number with the locale's grouping."""
        return _number(value, self.locale, None)

    def decimal(self, value: float, digits: int = 2) -> str:
        """A decimal number with `digits` decimals (0.87 / 0,87)."""
        return _number(value, self.locale, "0." + "0" * digits)

    def language(self, code: str | None) -> str:
        """The name of a language in the interface language ('anglais', 'English')."""
        if not code:
            return ""
        name = self._babel.languages.get(code)
        return name[:1].upper() + name[1:] if name else code
