"""G1: the shortcut check_phone takes for a plain 11-digit mobile gives what phonenumbers.parse gives."""
from __future__ import annotations

import random

import phonenumbers

from huifang.core.phones import _plain_mobile, check_phone


def test_G1_plain_mobile_shortcut_equals_phonenumbers_parse() -> None:
    rnd = random.Random(17)
    # every 4-digit start (carrier and international prefixes such as 1179…, 1200… among them)
    numbers = [f"1{p:03d}{rnd.randrange(10**7):07d}" for p in range(1000) for _ in range(3)]
    shortcut = 0
    for text in numbers:
        mine = _plain_mobile(text)
        if mine is None:
            continue
        shortcut += 1
        assert mine == phonenumbers.parse(text, "CN"), text
        assert phonenumbers.is_valid_number(mine) == phonenumbers.is_valid_number(phonenumbers.parse(text, "CN"))
    assert shortcut > len(numbers) // 2  # the shortcut is taken for the usual mobile
    # anything else is parsed the usual way: a prefix, spaces, full-width digits, a carrier code (1179…)
    for other in ("+8613800000001", "013800000001", "138 0000 0001", "1380000000１", "010-66778899", "11790000001"):
        assert _plain_mobile(other) is None, other
    assert check_phone(" 13800000001 ") == "13800000001"
