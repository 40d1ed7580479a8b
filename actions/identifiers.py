"""Computer names and serial numbers in ticket text (pure).

The seed ran loose regexes over raw HTML, so CSS property names (``font-family``), e-mail local
parts, phone numbers and ordinary hyphenated words became "identifiers", each costing two API
searches, with no bound on their number. Here text goes through three steps:

1. ``visible_text``: HTML is parsed, ``<style>``/``<script>`` content, comments and every tag
   (with its attributes, so inline ``style="…"`` goes too) are dropped; entities are unescaped
   only after that, so ``&lt;b&gt;`` stays text.
2. Noise that contains digits but is never an asset identifier is blanked: URLs, e-mail
   addresses, GUIDs, MAC addresses and phone numbers.
3. The rest is cut into tokens (letters and digits, joined by single hyphens) and each token is
   classified by shape (``classify``). Only tokens with a digit can pass, and only tokens with a
   letter too, except asset tags announced as such.

Shapes accepted (tokens of 5–63 characters):

- computer name: hyphenated, starts with a letter, has a digit; 3+ segments with a digit in the
  last segment (``MED-RAD-WS-03``, ``LSA-PSYCH-LT12``) or, when the token is all upper case,
  anywhere (``EH-014-LAB``); 2 segments when the last has 3+ characters and a digit
  (``DESKTOP-7K3J2QF``, ``L-C02XJ0AXJGH5``, ``psyc-amiemgT01``) and, if that last segment is
  only digits, it is not a year and the token is not mixed case (drops ``mid-2023``,
  ``Office-365``);
- serial number: one run of 7–15 letters and digits with both kinds and no lower-case letter
  (Dell service tag ``7XKQ2M3``, Apple ``C02XK1ABJGH5``, generic ``R8YWA0LX6ZE``).

A number (5–10 digits) counts only as an asset tag announced by one of the three words before
it (``Asset tag 0455537``, ``inventory sticker says 0773821``).

Well-known non-asset tokens (``COVID-19``, ``SHA-256``, ``KB5034441``, ``1920X1080``, ``16GB``)
are refused. Everything found is verified later against TDX by exact Name/Serial/Tag match; the
rules here only keep the number of lookups low and bounded (``limit``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from enum import Enum
from html.parser import HTMLParser

DEFAULT_LIMIT = 10


class IdentifierKind(Enum):
    COMPUTER_NAME = "computer_name"
    SERIAL_NUMBER = "serial_number"


# --- 1. HTML → visible text ----------------------------------------------------------------

# Content of these elements is never shown to a reader.
# (Not <head> or <title>: left unclosed in a malformed document they would hide everything.)
_HIDDEN_ELEMENTS = frozenset({"style", "script", "template"})

# Inline markup: no word boundary at the tag, so "<b>EH</b>-LAB-01" stays one token.
_INLINE_ELEMENTS = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "dfn", "em", "font", "i",
     "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time",
     "tt", "u", "var", "wbr"}
)  # fmt: skip

_HTML_ELEMENTS = _HIDDEN_ELEMENTS | _INLINE_ELEMENTS | frozenset(
    {"address", "area", "article", "aside", "audio", "base", "blockquote", "body", "br",
     "button", "canvas", "caption", "center", "col", "colgroup", "dd", "del", "details", "dialog",
     "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer", "form",
     "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "iframe",
     "img", "input", "ins", "label", "legend", "li", "link", "main", "map", "marquee", "menu",
     "meta", "meter", "nav", "object", "ol", "optgroup", "option", "output", "p", "param",
     "picture", "pre", "progress", "rp", "rt", "ruby", "section", "select", "source", "summary",
     "svg", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "tr", "track", "ul",
     "video"}
)  # fmt: skip


class _VisibleText(HTMLParser):
    """Collects the text a reader of the HTML would see, with word breaks at block tags."""

    def __init__(self) -> None:
        # convert_charrefs: entities are decoded in text only, after tags were recognised.
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden_depth = 0

    def text(self) -> str:
        return "".join(self._parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, opening=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, opening=False)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self._parts.append(data)

    def _tag(self, tag: str, *, opening: bool) -> None:
        if opening and tag in _HIDDEN_ELEMENTS:
            self._hidden_depth += 1
        elif not self._known(tag):
            # "<EH-CHEM-LAB-014>" in plain text is not markup: keep what was written, unless it
            # carries attributes (then it was meant as markup and its values are noise).
            raw = self.get_starttag_text() or ""
            if "=" not in raw and not self._hidden_depth:
                self._parts.append(" " + raw.strip("<>/ \t\r\n") + " ")
                return
        self._break(tag)

    def _break(self, tag: str) -> None:
        if tag not in _INLINE_ELEMENTS:
            self._parts.append(" ")

    @staticmethod
    def _known(tag: str) -> bool:
        # Office namespaces (o:p, v:shape, w:WordDocument) are markup too.
        return tag in _HTML_ELEMENTS or ":" in tag


def visible_text(html: str) -> str:
    """The text of ``html`` a reader would see; plain text passes through (entities decoded)."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.text()


# --- 2. noise that has digits but is never an identifier -----------------------------------

_NOISE = re.compile(
    r"""
      (?:\b[a-z][a-z0-9+.\-]*://|\bwww\.|\bmailto:)\S*                       # URLs
    | [a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*                          # e-mail addresses
    | \b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b        # GUIDs
    | \b(?:[0-9a-f]{2}[:\-]){5}[0-9a-f]{2}\b                                 # MAC addresses
    | (?<![\w\-])(?:\+?\d{1,3}[\s.\-]?)?(?:\(\d{3}\)|\d{3})[\s.\-]?\d{3}[\s.\-]?\d{4}
      (?:\s*(?:x|ext\.?)\s*\d{1,6}(?![\w@]))?(?![\w\-])                       # phone numbers
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _blank_noise(text: str) -> str:
    return _NOISE.sub(" ", text)


# --- 3. tokens and their shapes ------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_MIN_LENGTH = 5
_MAX_LENGTH = 63  # a DNS label
_SERIAL_LENGTHS = range(7, 16)
_YEAR = re.compile(r"(?:19|20)\d\d")  # Dell service tags are 7, Apple serials 12, others up to 15

# Well-known tokens with letters and digits that are never assets: standards, updates, ticket
# numbers of other systems, sizes, resolutions, ordinals.
_NOT_IDENTIFIERS = re.compile(
    r"""^(?:
        (?:COVID|SARS|SHA|MD|UTF|UCS|ISO|IEC|IEEE|RFC|CVE|KB|WINDOWS|WIN|OFFICE|MACOS|IOS|IPV|
           TLS|SSL|WPA|DDR|USB|HDMI|PCIE|INC|REQ|RITM|CHG|PRB|TASK|TKT)(?:-?\d+)+[A-Z]?
      | \d+X\d+
      | \d+(?:ST|ND|RD|TH|[KMGTP]I?B|[KMGT]HZ|HZ|PX|PT|EM|MS|AM|PM|MP|MAH|MBPS|GBPS|DPI|FPS)
    )$""",
    re.VERBOSE,
)


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _mixed_case(text: str) -> bool:
    return any(ch.islower() for ch in text) and any(ch.isupper() for ch in text)


def _computer_name(token: str, segments: list[str]) -> bool:
    if not segments[0][0].isalpha():
        return False
    last = segments[-1]
    if len(segments) == 2:
        if len(last) < 3 or not _has_digit(last):
            return False
        if last.isdigit():
            # "Office-365" (mixed case) and "mid-2023", "Q3-2024" (a year) are prose.
            return not (_mixed_case(token) or _YEAR.fullmatch(last))
        return True
    return _has_digit(last) or not any(ch.islower() for ch in token)


def _serial_number(token: str) -> bool:
    return len(token) in _SERIAL_LENGTHS and not any(ch.islower() for ch in token)


def classify(token: str) -> IdentifierKind | None:
    """The kind of identifier ``token`` looks like, or None when it is not one."""
    if not _MIN_LENGTH <= len(token) <= _MAX_LENGTH or not _TOKEN.fullmatch(token):
        return None
    if not (_has_digit(token) and _has_letter(token)):
        return None
    if _NOT_IDENTIFIERS.match(token.upper()):
        return None
    segments = token.split("-")
    if len(segments) > 1:
        return IdentifierKind.COMPUTER_NAME if _computer_name(token, segments) else None
    return IdentifierKind.SERIAL_NUMBER if _serial_number(token) else None


# A number is an asset tag only when one of the few words before it says so ("Asset tag
# 0455537", "our inventory sticker says 0773821"): bare numbers are rooms, tickets, amounts.
_TAG_WORDS = frozenset({"tag", "tags", "sticker", "inventory", "asset", "property"})
_TAG_WINDOW = 3
_TAG_DIGITS = range(5, 11)


def is_tagged_number(token: str, previous_words: Iterable[str]) -> bool:
    """``token`` is all digits, of an asset tag's length, announced by a tag word."""
    return (
        token.isdigit()
        and len(token) in _TAG_DIGITS
        and any(word.casefold() in _TAG_WORDS for word in previous_words)
    )


def _candidates(text: str) -> Iterator[str]:
    """The tokens of ``text`` that are identifiers, in order (duplicates included)."""
    previous: deque[str] = deque(maxlen=_TAG_WINDOW)
    for match in _TOKEN.finditer(_blank_noise(visible_text(text))):
        token = match.group()
        if classify(token) is not None or is_tagged_number(token, previous):
            yield token
        previous.append(token)


def extract_identifiers(texts: Iterable[str | None], *, limit: int = DEFAULT_LIMIT) -> list[str]:
    """Candidate computer names and serials in ``texts`` (HTML or plain), in first-seen order.

    Case-insensitive duplicates are dropped (the first spelling is kept) and at most ``limit``
    are returned.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    found: list[str] = []
    seen: set[str] = set()
    for text in texts:
        if not text or len(found) >= limit:
            continue
        for token in _candidates(text):
            key = token.casefold()
            if key in seen:
                continue
            seen.add(key)
            found.append(token)
            if len(found) >= limit:
                break
    return found


def normalize(identifier: str | None) -> str:
    """The form used to compare an identifier with an asset's Name, SerialNumber or Tag."""
    return (identifier or "").strip().casefold()
