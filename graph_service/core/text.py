"""The text rules: what a date, an id, a name and free text may hold, each written once.

The ontology's field types, the API's query parameters, the command line's options and the
loaders all go through these functions, so a value means the same wherever it comes in.

- **Dates** (:func:`partial_date`): ``2021``, ``2021-09`` or ``2021-09-30``, read after NFKC
  normalisation, so full-width digits and dashes (``２０２１－０９``, as Chinese input methods
  type them) are the ASCII ones and are kept as such. Digits of other scripts (Arabic-Indic,
  Devanagari …) are refused by name: compared as text they would never match a stored date.
  A full date must be in the calendar (``2020-02-29`` is, ``2021-02-30`` is not).
- **Ids** (:func:`canonical_id`): NFKC-normalised and case-folded, so every visible spelling
  of an id is one id (``Society:CMES`` and ``society:ｃｍｅｓ`` are ``society:cmes``); control
  characters and invisible ones (zero-width, soft hyphen, bidi controls, byte-order mark:
  any format character) are refused, since two ids that look the same must be the same.
- **Names and free text** (:func:`clean_text`): a carriage return (alone or before a line feed)
  is read as a line feed; any other control character except tab and line feed is refused
  (C0, DEL, C1), and so is what XML 1.0 cannot carry at all (surrogates, U+FFFE, U+FFFF), so
  every export (GraphML, GEXF, JSON, CSV) is well-formed and reloads.

Each function raises :class:`ValueError` with a message for the person who wrote the value,
naming the character as ``U+XXXX`` and its Unicode name; the callers add where it was.

Example:
    >>> partial_date("２０２１－０９")
    '2021-09'
    >>> canonical_id("Society:ＣＭＥＳ")
    'society:cmes'
    >>> clean_text("line one\\r\\nline two")
    'line one\\nline two'
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = [
    "CANONICAL_ASCII",
    "DATE_FORMS",
    "canonical_id",
    "clean_text",
    "describe_character",
    "partial_date",
]

DATE_FORMS = "2021, 2021-05 or 2021-05-31"
"""The forms a date may take, as messages and help texts say them."""

_DATE = re.compile(r"[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?")
"""A partial date in ASCII digits; ``[0-9]``, not ``\\d``, which matches the digits of every script."""

_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters no name or free text may hold (tab and line feed are allowed; carriage returns are
made line feeds first)."""

CANONICAL_ASCII = r"[!-@\[-~]"
"""A character of an id that is canonical as it stands: printable ASCII, no space, no upper case.
An id key of these alone, not starting with ':', needs no NFKC (the common case, checked fast)."""
_ID_SAFE = re.compile(rf"(?!:){CANONICAL_ASCII}+")


def partial_date(value: str) -> str:
    """A date as precise as its source (``2021``, ``2021-09`` or ``2021-09-30``), in ASCII digits.

    The value is NFKC-normalised and stripped first, so full-width digits are read as ASCII
    ones and the result is what is stored and compared.

    >>> partial_date(" 2020-02-29 ")
    '2020-02-29'

    Raises:
        ValueError: for another form, digits of another script (named), or a day the
            calendar does not have.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if _DATE.fullmatch(text):
        if len(text) == 10:
            try:
                date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{_shown(value)} is not a date in the calendar") from None
        return text
    foreign = next((ch for ch in text if ch.isdigit() and not ch.isascii()), None)
    if foreign is not None:
        raise ValueError(
            f"{_shown(value)} is not a date: {describe_character(foreign)} is a digit of another "
            f"script; write dates in the digits 0-9, as {DATE_FORMS}"
        )
    raise ValueError(f"{_shown(value)} is not a date; write {DATE_FORMS}")


def canonical_id(value: str) -> str:
    """The one spelling of an id: NFKC-normalised and case-folded (its form is the ontology's to check).

    >>> canonical_id("INDUSTRY:GBT4754:C38")
    'industry:gbt4754:c38'

    Raises:
        ValueError: when the id holds a control or an invisible character (named), which
            would make two ids that look the same differ.
    """
    if value.isascii():
        if _ID_SAFE.fullmatch(value.partition(":")[2]) and value.islower():
            return value
        folded = value.lower()
    else:
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    for ch in folded:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs") or ch in "\ufffe\uffff":
            kind = _REFUSED_KIND.get(unicodedata.category(ch), "a noncharacter, which no XML file can hold")
            raise ValueError(
                f"id {_shown(value)} holds {describe_character(ch)}, {kind}; ids must look as they are, "
                "so write it without that character"
            )
    return folded


def clean_text(value: str) -> str:
    """A name or free text with its line breaks as line feeds, refused if it holds a control character.

    >>> clean_text("tab\\tand line\\nfeed are kept")
    'tab\\tand line\\nfeed are kept'

    Raises:
        ValueError: naming the first character refused and where it is.
    """
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    found = _NOT_IN_TEXT.search(value)
    if found is not None:
        ch = found.group()
        what = _REFUSED_KIND.get(unicodedata.category(ch), "a noncharacter, which no XML file can hold")
        raise ValueError(
            f"holds {describe_character(ch)}, {what}, at character {found.start() + 1}; "
            "remove it (of the control characters only tab and line break are allowed)"
        )
    return value


def describe_character(ch: str) -> str:
    """A character as messages name it: its code point, and its Unicode name when it has one.

    >>> describe_character("\\u200b")
    'U+200B (ZERO WIDTH SPACE)'
    >>> describe_character("\\x00")
    'U+0000 (NULL)'
    """
    name = unicodedata.name(ch, None) or _CONTROL_NAMES.get(ch)
    return f"U+{ord(ch):04X} ({name})" if name else f"U+{ord(ch):04X}"


_REFUSED_KIND = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate, which no XML file can hold",
}
"""What a refused character is, by its Unicode category (U+FFFE and U+FFFF are the others)."""

_CONTROL_NAMES = {
    "\x00": "NULL",
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}
"""Names of the controls people meet most; ``unicodedata`` names none of them."""


def _shown(value: str) -> str:
    """A value as a message quotes it: its repr (which shows invisible characters), cut short."""
    return repr(value[:60]) + ("…" if len(value) > 60 else "")
