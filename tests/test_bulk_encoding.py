"""The single-pass import's encoder and model construction give what the store's transcoder and
pydantic give: the same stored bytes (or the same error), the same plan inputs."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

from huifang.core.bulk import _guide, construct, fast_encoder
from huifang.core.contract import Guide, SubjectInfo, TriggerInfo


class Colour(StrEnum):
    RED = "red"


class Text(str):
    pass


AT = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
STATES = [
    {"timestamp": AT, "code": "D1", "meta": {"a": [1, True, None, "中\n\x00\x7f\u2028\"\\"], "b": {}}, "n": -2**63},
    {"x": 2**64 - 1}, {"x": 2**64}, {"x": -2**63 - 1},  # beyond 64 bits: the transcoder
    {"x": 1.5, "y": 1e16, "z": float("nan")},  # floats: written as the stdlib writes them
    {"x": "\ud800"}, {"x": UUID(int=7)}, {"x": Decimal("1.10")}, {"x": (1, 2)}, {"x": Colour.RED}, {"x": Text("t")},
    {1: "non-str key"}, {"x": object()}, {"x": datetime(2026, 1, 1)}, {"x": [[{"y": [AT]}]]},
]


def _stock() -> JSONTranscoder:
    t = JSONTranscoder()
    for x in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        t.register(x)
    return t


def _outcome(encode, state):
    try:
        return ("ok", encode(state))
    except Exception as e:
        return ("error", type(e), str(e))


@pytest.mark.parametrize("state", STATES)
def test_import_encoder_writes_the_transcoders_bytes(state):
    stock = _stock()
    assert _outcome(fast_encoder(stock), state) == _outcome(stock.encode, state)


def test_import_encoder_is_the_transcoder_itself_for_another_transcoder():
    class Mine(JSONTranscoder):
        pass

    t = Mine()
    assert fast_encoder(t) == t.encode


@pytest.mark.parametrize(("cls", "values"), [
    (TriggerInfo, {"id": "D1", "kind": "medical.discharge", "plugin": "medical", "subject": "P1", "at": AT,
                   "attributes": {"a": 1}}),
    (SubjectInfo, {"attributes": {}, "id": "P1", "tz": "Asia/Shanghai", "optouts": ["sms"], "exempt": False}),
    (SubjectInfo, {"id": "P1", "tz": "Asia/Shanghai"}),  # defaults: model_construct itself
])
def test_plan_inputs_are_what_model_construct_makes(cls, values):
    a, b = cls.model_construct(**dict(values)), construct(cls, dict(values))
    assert type(a) is type(b) and a == b and list(a.__dict__) == list(b.__dict__)
    assert (a.model_fields_set, a.__pydantic_extra__, a.__pydantic_private__) == \
        (b.model_fields_set, b.__pydantic_extra__, b.__pydantic_private__)


class _MoreGuide(Guide):
    source: str = "M6"


@pytest.mark.parametrize("guide", [Guide(title="康复评分模板", lines=["症状消失或减轻", "按医嘱服药"]),
                                   Guide(title="t", lines=[]), _MoreGuide(title="t", lines=["a"])])
def test_a_planned_guide_is_stored_as_pydantic_dumps_it(guide):
    """G4/M6: the script a follow-up shows is stored as model_dump gives it (every field, in order; a
    subclass's own fields too), its lines a copy."""
    dumped = _guide(guide)
    assert dumped == guide.model_dump() and list(dumped) == list(guide.model_dump())
    assert dumped["lines"] is not guide.lines
