"""Phone numbers of subjects (G1): validated with `phonenumbers` (China the default region, so
13800000001 and 010-66778899 need no +86), kept as the operator wrote them (trimmed), compared in
E.164 (`subject find --phone`), shown masked where the full number is not needed (138****0001); a
subject's name is masked the same way in lists (张*)."""
from __future__ import annotations

import re
from typing import Any

from .errors import HuifangError

DEFAULT_REGION = "CN"
# what a read shows in place of personal data it cannot give (core/privacy.py ERASED, UNREADABLE, NO_KEY):
# shown as it is, never masked into "[*******" as if it were a name
MARKERS = frozenset({"[erased]", "[unreadable]", "[encrypted]"})


def check_phone(text: str, field: str = "phone") -> str:
    """The number as given (trimmed) if it is a valid phone number, else HuifangError naming `field`."""
    import phonenumbers

    value = str(text).strip()
    number = _plain_mobile(value)
    if number is None:
        try:
            number = phonenumbers.parse(value, DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise HuifangError(f"'{value}' is not a valid phone number (a mobile such as 13800000001, a landline with "
                           f"its area code such as 010-66778899, or +country code)", field=field)
    return value


_PREFIXES: tuple[Any, Any, int] | None = None  # the default region's prefix patterns and country code


def _plain_mobile(value: str) -> Any:
    """What phonenumbers.parse(value, "CN") returns for 11 plain digits starting with 1 that neither
    prefix pattern matches (a bulk import's usual cell: parse's own work then reduces to int()), made
    without parse; None for anything else (parsed the usual way)."""
    global _PREFIXES
    if len(value) != 11 or value[0] != "1" or not value.isascii() or not value.isdigit():
        return None
    import phonenumbers

    if _PREFIXES is None:  # made once; threads racing here make the same tuple
        meta = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
        if meta is None or meta.country_code is None:
            return None
        _PREFIXES = (re.compile(meta.national_prefix_for_parsing or "(?!)"),
                     re.compile(meta.international_prefix or "(?!)"), meta.country_code)
    national, international, country = _PREFIXES
    if national.match(value) or international.match(value):
        return None
    return phonenumbers.PhoneNumber(country_code=country, national_number=int(value))


def phone_key(text: str) -> str | None:
    """The number in E.164 (+8613800000001) for comparing, None if it is not one."""
    import phonenumbers

    try:
        number = phonenumbers.parse(str(text).strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_name(name: str) -> str:
    """张*: the first character only; "" for no name."""
    if not name or name in MARKERS:
        return name
    return name[:1] + "*" * max(len(name) - 1, 1)


def digits(text: str) -> str:
    return "".join(c for c in str(text) if c.isdigit())


def mask_phone(phone: str) -> str:
    """138****0001: enough to confirm the number on the phone, not to dial it."""
    d = str(phone).strip()
    if d in MARKERS:  # G10: an erased subject's number is "[erased]", not "[er****sed]"
        return d
    if len(d) >= 8:
        return d[:3] + "****" + d[-4:]
    return "*" * (len(d) - 2) + d[-2:] if len(d) > 2 else "*" * len(d)


def matches(stored: str, wanted: str) -> bool:
    """Whether a stored number is the one an operator typed: the same number (any format), the last
    digits (at least 4: `--phone 0001`), or a masked form as shown in a list (`138****0001`)."""
    if "*" in wanted:
        head, _, tail = wanted.partition("*")
        tail = tail.strip("*")
        d = digits(stored)
        return bool(head or tail) and d.startswith(digits(head)) and d.endswith(digits(tail))
    key, mine = phone_key(wanted), phone_key(stored)
    if key is not None and key == mine:
        return True
    want = digits(wanted)
    return len(want) >= 4 and digits(stored).endswith(want)
