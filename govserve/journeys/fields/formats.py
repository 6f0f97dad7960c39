"""Reading what people type: numbers, money, dates, emails, phone numbers, postcodes.

Pure functions, no Django. Each reader takes the text a person typed (already
trimmed) and returns the typed value, or raises :class:`FormatError` with a
reason the message layer turns into words. They are strict about meaning and
forgiving about form: ``1,000`` is a thousand, ``£1,234.5`` is 123450 pence,
``mar`` is March, ``sw1a1aa`` is ``SW1A 1AA``; ``1e3``, ``12.345`` pounds and
``31/02`` are refused. Only ASCII digits count as digits (Python's ``int()``
would also read Arabic-Indic digits and ``1_000``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import Final

import phonenumbers

# --- Text clean-up ----------------------------------------------------------------

_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Explicit bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). Nobody types them in a
# name or an address (the Unicode bidi algorithm orders Arabic or Hebrew text without them), and they make text
# read backwards or out of order wherever it is shown ("Trojan Source"): staff pages, PDFs, emails, exports.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def clean_line(text: str) -> str:
    """Return one line of text as stored: NFC, control characters as spaces, bidi controls removed, trimmed.

    Lone surrogates (possible in JSON bodies) become U+FFFD so that the value
    can always be encoded as UTF-8. Joiners (ZWJ, ZWNJ), which scripts and
    emoji need, are kept.
    """
    text = _SURROGATES.sub("\ufffd", text)
    text = _BIDI_CONTROLS.sub("", unicodedata.normalize("NFC", text))
    if not text.isprintable():
        text = "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)
    return text.strip()


def clean_lines(text: str) -> str:
    """Return several lines of text as stored: line ends as ``\\n`` (as the character count counts them).

    Other control characters (tabs kept) and bidi controls are removed, and the whole text trimmed.
    """
    text = _SURROGATES.sub("\ufffd", text)
    text = _BIDI_CONTROLS.sub("", unicodedata.normalize("NFC", text)).replace("\r\n", "\n").replace("\r", "\n")
    if not text.isprintable():
        text = "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")
    return text.strip()


class FormatError(ValueError):
    """What a person typed cannot be read as the value asked for; ``reason`` says why."""

    def __init__(self, reason: str, *, parts: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.parts = parts


# --- Numbers and money --------------------------------------------------------------

NUMBER_DIGITS_MAX: Final = 15
"""The most digits a whole number may have before its decimal point (CEL ints are 64-bit)."""

_NUMBER = re.compile(r"(?P<sign>[-\u2212])?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<fraction>[0-9]+))?")


def read_number(text: str, *, decimal_places: int) -> int | Decimal:
    """Return the number in ``text``: an int when ``decimal_places`` is 0, else a Decimal.

    Thousands separators must group by three (``1,000``, not ``1,00``). A
    whole-number field accepts ``5.0``. Raise FormatError with reason
    ``format`` (not a number), ``decimal_places`` (too many decimals) or
    ``too_large``.
    """
    text = text.replace(" ", "")
    match = _NUMBER.fullmatch(text)
    if match is None or not (match["whole"] or match["fraction"]):
        raise FormatError("format")
    # Leading zeros go before int(): it refuses strings over 4,300 digits, zeros included.
    whole = (match["whole"] or "").replace(",", "").lstrip("0") or "0"
    fraction = (match["fraction"] or "").rstrip("0")
    if len(whole) > NUMBER_DIGITS_MAX:
        raise FormatError("too_large")
    if len(fraction) > decimal_places:
        raise FormatError("decimal_places")
    negative = match["sign"] is not None
    if decimal_places == 0:
        number = int(whole)
        return -number if negative else number
    value = Decimal(f"{whole}.{fraction or '0'}").quantize(Decimal(1).scaleb(-decimal_places))
    return -value if negative and value else value


MONEY_MAX_MINOR_UNITS: Final = 10**15
"""The largest amount a money answer may be, in minor units (10 trillion pounds)."""

_MONEY = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<pence>[0-9]{1,2}))?")
CURRENCY_SYMBOLS: Final = {"GBP": "£", "EUR": "€", "USD": "$"}


def read_money(text: str, *, currency: str = "GBP") -> int:
    """Return the amount in ``text`` in minor units: ``£1,234.5`` -> ``123450``.

    The currency's symbol or code may lead (``£``, ``GBP``); pence need one or
    two digits (``12.345`` is refused). Raise FormatError with reason
    ``format`` or ``too_large``.
    """
    text = text.replace(" ", "")
    for marker in (CURRENCY_SYMBOLS.get(currency), currency, currency.lower()):
        if marker and text.startswith(marker):
            text = text[len(marker) :]
            break
    match = _MONEY.fullmatch(text)
    if match is None or not (match["whole"] or match["pence"]):
        raise FormatError("format")
    whole = (match["whole"] or "").replace(",", "").lstrip("0") or "0"
    if len(whole) > NUMBER_DIGITS_MAX - 2:
        raise FormatError("too_large")
    amount = int(whole) * 100 + int((match["pence"] or "0").ljust(2, "0"))
    if amount > MONEY_MAX_MINOR_UNITS:
        raise FormatError("too_large")
    return amount


def format_money(minor_units: int, currency: str = "GBP") -> str:
    """Return an amount for people, GOV.UK style: ``£1,234.50``, ``£75`` (no ``.00``), ``-£3.20``.

    A currency without a symbol here is written with its code: ``CHF 12.50``.
    """
    whole, minor = divmod(abs(minor_units), 100)
    amount = f"{whole:,}" if minor == 0 else f"{whole:,}.{minor:02d}"
    sign = "-" if minor_units < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{currency} {amount}"


def money_input_text(minor_units: int) -> str:
    """Return an amount as it is shown in its input for a change: ``1234.50`` (no symbol, no commas)."""
    whole, minor = divmod(minor_units, 100)
    return f"{whole}" if minor == 0 else f"{whole}.{minor:02d}"


def format_number(value: float | Decimal) -> str:
    """Return a number for people: ``1,000``, ``2.5``, ``-3``."""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,}"
    return f"{value:,f}"


# --- Dates --------------------------------------------------------------------------

MONTH_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "cy": (
        "Ionawr",
        "Chwefror",
        "Mawrth",
        "Ebrill",
        "Mai",
        "Mehefin",
        "Gorffennaf",
        "Awst",
        "Medi",
        "Hydref",
        "Tachwedd",
        "Rhagfyr",
    ),
}
"""Month names for dates shown to people; also read when typed into the month input."""


def _month_words() -> dict[str, int]:
    words: dict[str, int] = {}
    for names in MONTH_NAMES.values():
        for number, name in enumerate(names, start=1):
            words[name.lower()] = number
    for number, name in enumerate(MONTH_NAMES["en"], start=1):
        words[name[:3].lower()] = number
    words["sept"] = 9
    return words


_MONTH_WORDS: Final = _month_words()
_DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[0-9]{4}")
DATE_PARTS: Final = ("day", "month", "year")
EARLIEST_YEAR: Final = 1000
"""Years before this are refused as not real: nobody means them, and time zone arithmetic on them overflows."""


def read_date(day: str, month: str, year: str) -> dt.date:
    """Return the date typed in three inputs (each already trimmed; ``""`` when empty).

    Day and month take one or two digits (``3`` or ``03``); the month may be a
    name or a three-letter abbreviation, in English or Welsh (``March``,
    ``mar``, ``Mawrth``); the year takes four digits. Raise FormatError with
    reason ``required`` (all empty), ``incomplete`` (``parts``: the empty
    ones), ``year_digits`` (a year not of four digits) or ``real_date``
    (``parts``: the inputs at fault, all three when the date as a whole does
    not exist).
    """
    typed = {"day": day, "month": month, "year": year}
    missing = tuple(part for part in DATE_PARTS if not typed[part])
    if len(missing) == len(DATE_PARTS):
        raise FormatError("required", parts=DATE_PARTS)
    if missing:
        raise FormatError("incomplete", parts=missing)
    month_number = _read_month(month)
    wrong = []
    if not _DAY_OR_MONTH.fullmatch(day) or not 1 <= int(day) <= 31:
        wrong.append("day")
    if month_number is None:
        wrong.append("month")
    if wrong:
        raise FormatError("real_date", parts=tuple(wrong))
    if not _YEAR.fullmatch(year):
        raise FormatError("year_digits", parts=("year",))
    if int(year) < EARLIEST_YEAR:
        raise FormatError("real_date", parts=("year",))
    assert month_number is not None  # noqa: S101 - narrowed above (wrong would hold "month")
    try:
        return dt.date(int(year), month_number, int(day))
    except ValueError:
        raise FormatError("real_date", parts=DATE_PARTS) from None


def _read_month(text: str) -> int | None:
    if _DAY_OR_MONTH.fullmatch(text):
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTH_WORDS.get(text.lower().rstrip("."))


def format_date(value: dt.date, language: str) -> str:
    """Return a date for people, GOV.UK style: ``27 March 1990`` (``27 Mawrth 1990`` in Welsh)."""
    names = MONTH_NAMES.get(language, MONTH_NAMES["en"])
    return f"{value.day} {names[value.month - 1]} {value.year}"


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def read_iso_date(text: str) -> dt.date:
    """Return the date written ``YYYY-MM-DD`` (only that form); raise FormatError ``real_date``."""
    if not _ISO_DATE.fullmatch(text):
        raise FormatError("real_date")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise FormatError("real_date") from None
    if value.year < EARLIEST_YEAR:
        raise FormatError("real_date")
    return value


def add_years(day: dt.date, years: int) -> dt.date:
    """Return ``day`` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(born: dt.date, today: dt.date) -> int:
    """Return whole years from ``born`` to ``today``, as the rules engine's ``age()`` counts them."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# --- Email addresses ---------------------------------------------------------------

EMAIL_MAX_LENGTH: Final = 254
_EMAIL = re.compile(r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+@([^.@][^@\s]+)")
_HOSTNAME_PART = re.compile(r"(xn|[a-z0-9]+)(-?-[a-z0-9]+)*", re.IGNORECASE)
_TOP_LEVEL_DOMAIN = re.compile(r"([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)", re.IGNORECASE)
_HOSTNAME_MAX = 253
_LABEL_MAX = 63


def read_email(text: str) -> str:
    """Return the email address in ``text`` as typed (trimmed), or raise FormatError ``format``.

    The check is GOV.UK Notify's: a plain local part, a host name of at least
    two labels (internationalised names allowed) and a real-looking top-level
    domain; no ``..``; at most 254 characters. It does not second-guess
    unusual but valid addresses the way stricter validators do.
    """
    match = _EMAIL.fullmatch(text)
    if match is None or len(text) > EMAIL_MAX_LENGTH or ".." in text:
        raise FormatError("format")
    try:
        hostname = match.group(1).encode("idna").decode("ascii")
    except UnicodeError:
        raise FormatError("format") from None
    labels = hostname.split(".")
    if len(hostname) > _HOSTNAME_MAX or len(labels) < 2:
        raise FormatError("format")
    for label in labels:
        if not label or len(label) > _LABEL_MAX or not _HOSTNAME_PART.fullmatch(label):
            raise FormatError("format")
    if not _TOP_LEVEL_DOMAIN.fullmatch(labels[-1]):
        raise FormatError("format")
    return text


# --- Phone numbers -------------------------------------------------------------------

PHONE_MAX_LENGTH: Final = 50
# Ofcom's numbers for drama (and examples), which phonenumbers calls invalid: GOV.UK's error
# messages show them, so people testing a service type them. National significant numbers.
_DRAMA_PREFIXES: Final = (
    "1134960", "1144960", "1154960", "1164960", "1174960", "1184960", "1214960", "1314960", "1414960",
    "1514960", "1614960", "1632960", "1914980", "2079460", "2896496", "3069990", "7700900", "8081570",
    "9098790",
)  # fmt: skip
_DRAMA_LENGTH: Final = 10
_UK_COUNTRY_CODE: Final = 44


def read_phone(text: str, *, region: str) -> str:
    """Return the phone number in ``text`` in E.164 form (``+447700900982``), or raise FormatError ``format``.

    National numbers are read in ``region`` (``07700 900 982`` in GB),
    international ones from their ``+`` or ``00`` prefix. The number must be a
    valid number for its country by libphonenumber's metadata, or one of
    Ofcom's drama numbers (``01632 960 001``, ``07700 900 982``), which GOV.UK
    messages use as examples.
    """
    if len(text) > PHONE_MAX_LENGTH:
        raise FormatError("format")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise FormatError("format") from None
    if not (phonenumbers.is_valid_number(number) or _is_drama_number(number)):
        raise FormatError("format")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_drama_number(number: phonenumbers.PhoneNumber) -> bool:
    national = phonenumbers.national_significant_number(number)
    return (
        number.country_code == _UK_COUNTRY_CODE
        and len(national) == _DRAMA_LENGTH
        and national.startswith(_DRAMA_PREFIXES)
    )


def format_phone(e164: str, *, region: str) -> str:
    """Return a stored phone number for people: national form in ``region`` (``07700 900982``), else international."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == region or (
        phonenumbers.country_code_for_region(region) == number.country_code
    ):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- Postcodes ---------------------------------------------------------------------

_POSTCODE = re.compile(
    # The UK government data standard pattern (BS 7666), upper case, for a postcode without spaces.
    r"GIR0AA|(?:[A-Z][0-9]{1,2}|[A-Z][A-HJ-Y][0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z][A-HJ-Y][0-9][A-Z]?)[0-9][A-Z]{2}"
)
_WHITESPACE = re.compile(r"\s+")
POSTCODE_MAX_LENGTH: Final = 16


def read_postcode(text: str) -> str:
    """Return a UK postcode normalised (``sw1a1aa`` -> ``SW1A 1AA``), or raise FormatError ``format``."""
    if len(text) > POSTCODE_MAX_LENGTH:
        raise FormatError("format")
    compact = _WHITESPACE.sub("", text).upper()
    if not compact.isascii() or not _POSTCODE.fullmatch(compact):
        raise FormatError("format")
    return f"{compact[:-3]} {compact[-3:]}"
