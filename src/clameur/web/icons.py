"""The interface's icons (24-pixel line icons, stroke drawn in the text colour), served as one
inline SVG sprite per page: each use is a short `<svg><use>` instead of its paths."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

# The drawing of each icon, inside a 24x24 view box.
ICONS: dict[str, str] = {
    "logo": (
        '<path d="M3 10v4a1 1 0 0 0 1 1h2l5 4V5L6 9H4a1 1 0 0 0-1 1z" fill="currentColor" stroke="none"/>'  # noqa: E501
        '<path d="M15.5 8.5a5 5 0 0 1 0 7"/>'
        '<path d="M18.5 5.5a9 9 0 0 1 0 13"/>'
    ),
    "listening": (
        '<path d="M4.9 19.1a10 10 0 0 1 0-14.2"/>'
        '<path d="M7.8 16.2a6 6 0 0 1 0-8.4"/>'
        '<circle cx="12" cy="12" r="2"/>'
        '<path d="M16.2 7.8a6 6 0 0 1 0 8.4"/>'
        '<path d="M19.1 4.9a10 10 0 0 1 0 14.2"/>'
    ),
    "queries": '<path d="M19 21l-7-4-7 4V5a2 2 0 0 1 2-2h10a2 2 0 0 1 2 2z"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="M21 21l-4.3-4.3"/>',
    "filter": '<path d="M22 3H2l8 9.5V19l4 2v-8.5z"/>',
    "external": (
        '<path d="M15 3h6v6"/>'
        '<path d="M10 14L21 3"/>'
        '<path d="M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6"/>'
    ),
    "verified": (
        '<path d="M12 2l2.4 2.1 3.2-.3.9 3.1 2.8 1.6-1.2 3 1.2 3-2.8 1.6-.9 3.1-3.2-.3L12 22l-2.4-2.1-3.2.3-.9-3.1-2.8-1.6 1.2-3-1.2-3 2.8-1.6.9-3.1 3.2.3z" fill="currentColor" stroke="none"/>'  # noqa: E501
        '<path d="M8.5 12.2l2.4 2.3 4.6-4.8" stroke="#fff"/>'
    ),
    "plus": '<path d="M12 5v14"/><path d="M5 12h14"/>',
    "edit": '<path d="M12 20h9"/><path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"/>',
    "trash": (
        '<path d="M3 6h18"/>'
        '<path d="M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2"/>'
        '<path d="M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6"/>'
    ),
    "chevron": '<path d="M6 9l6 6 6-6"/>',
    "globe": (
        '<circle cx="12" cy="12" r="10"/>'
        '<path d="M2 12h20"/>'
        '<path d="M12 2a15 15 0 0 1 0 20"/>'
        '<path d="M12 2a15 15 0 0 0 0 20"/>'
    ),
    "logout": (
        '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/>'
        '<path d="M16 17l5-5-5-5"/>'
        '<path d="M21 12H9"/>'
    ),
    "users": (
        '<path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/>'
        '<circle cx="9" cy="7" r="4"/>'
        '<path d="M23 21v-2a4 4 0 0 0-3-3.9"/>'
        '<path d="M16 3.1a4 4 0 0 1 0 7.8"/>'
    ),
    "code": '<path d="M16 18l6-6-6-6"/><path d="M8 6l-6 6 6 6"/>',
    "check": '<path d="M20 6L9 17l-5-5"/>',
    "alert": '<circle cx="12" cy="12" r="10"/><path d="M12 8v4"/><path d="M12 16h.01"/>',
    "inbox": (
        '<path d="M22 12h-6l-2 3h-4l-2-3H2"/>'
        '<path d="M5.5 5.1L2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.5-6.9A2 2 0 0 0 16.8 4H7.2a2 2 0 0 0-1.7 1.1z"/>'  # noqa: E501
    ),
    "copy": (
        '<rect x="9" y="9" width="12" height="12" rx="2"/>'
        '<path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"/>'
    ),
    "flag": '<path d="M4 22V4"/><path d="M4 4h12l-2 4 2 4H4"/>',
    "x": '<path d="M18 6L6 18"/><path d="M6 6l12 12"/>',
    "send": '<path d="M22 2L11 13"/><path d="M22 2l-7 20-4-9-9-4 20-7z"/>',
    "calendar": (
        '<rect x="3" y="4" width="18" height="18" rx="2"/><path d="M16 2v4"/><path d="M8 2v4"/>'
        '<path d="M3 10h18"/>'
    ),
    "radar": (
        '<path d="M3 3v18h18"/><path d="M7 15l4-5 3 3 5-7"/><circle cx="19" cy="6" r="1.5"/>'
    ),
}

# How icons are drawn (no fill, a round 2-unit stroke in the text colour) is in app.css (.icon).
_ATTRIBUTES = 'aria-hidden="true" focusable="false"'


@lru_cache(maxsize=256)
def icon(name: str, size: int = 18) -> Markup:
    """An icon of the sprite; an unknown name is an error, not a blank space."""
    if name not in ICONS:
        raise KeyError(f"unknown icon {name!r}")
    return Markup(
        f'<svg class="icon icon-{name}" width="{size}" height="{size}" viewBox="0 0 24 24" '
        f'{_ATTRIBUTES}><use href="#i-{name}"/></svg>'
    )


@lru_cache(maxsize=1)
def icon_sprite() -> Markup:
    """Every icon as a <symbol>, included once at the top of each page."""
    symbols = "".join(
        f'<symbol id="i-{name}" viewBox="0 0 24 24">{drawing}</symbol>'
        for name, drawing in ICONS.items()
    )
    return Markup(f'<svg class="sprite" aria-hidden="true">{symbols}</svg>')
