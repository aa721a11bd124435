"""How long a reply is, the way each network counts.

X counts a weighted length (twitter-text 3, https://github.com/twitter/twitter-text, the
`v3` configuration): text is NFC-normalised; code points in a few ranges (Latin, Greek,
Cyrillic, common punctuation) weigh 1, every other code point (CJK, most symbols) weighs 2; an
emoji, with its modifiers and joined parts, weighs 2 in all; a URL weighs 23 whatever its
length; 280 at most. Other networks count characters (code points).
"""

from __future__ import annotations

import re
import unicodedata

X_URL_WEIGHT = 23
# twitter-text v3: ranges of weight 1 (scale 100: weight 100); everything else weighs 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|org|net|fr|io|co|uk|de|eu|be|ch|ca|info|me|tv|ly|gl|app|dev)\b(?:/[^\s<>\"]*)?",
    re.IGNORECASE,
)
_ZWJ = 0x200D
_VARIATION = (0xFE0E, 0xFE0F)
_KEYCAP = 0x20E3
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)
_TAGS = range(0xE0020, 0xE0080)


def _is_emoji(code: int) -> bool:
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D)
        or 0x2190 <= code <= 0x21FF
        or 0x2300 <= code <= 0x23FF
    )


def _light(code: int) -> bool:
    return any(low <= code <= high for low, high in _LIGHT_RANGES)


def _weigh_text(text: str) -> int:
    total = 0
    codes = [ord(char) for char in text]
    index = 0
    while index < len(codes):
        code = codes[index]
        if code in _REGIONAL and index + 1 < len(codes) and codes[index + 1] in _REGIONAL:
            total += 2  # a flag: two regional indicators, one emoji
            index += 2
            continue
        if _is_emoji(code):
            total += 2
            index += 1
            # Modifiers, variation selectors, keycaps, tags and zero-width-joined parts belong
            # to the same emoji.
            while index < len(codes):
                following = codes[index]
                if following in _VARIATION or following == _KEYCAP or following in _SKIN_TONES:
                    index += 1
                elif following in _TAGS:
                    index += 1
                elif following == _ZWJ and index + 1 < len(codes):
                    index += 2
                else:
                    break
            continue
        total += 1 if _light(code) else 2
        index += 1
    return total


def x_weighted_length(text: str) -> int:
    """A post's length as X counts it (URLs 23, CJK and emoji 2, Latin 1)."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for found in _URL.finditer(text):
        total += _weigh_text(text[position : found.start()]) + X_URL_WEIGHT
        position = found.end()
    return total + _weigh_text(text[position:])


def reply_length(network: str, text: str) -> int:
    """The length the network checks its limit against."""
    if network == "x":
        return x_weighted_length(text)
    return len(text)
