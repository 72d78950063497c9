"""F5: the finance plugin's print-room adapter for the `letter` channel."""
from __future__ import annotations

from pathlib import Path

from huifang.core.plugin_api.channels import ChannelAdapter, OutgoingMessage
from huifang.plugins.finance.letters import PrintRoomLetters


def letter(key: str = "reminder:P1-policy:letter") -> OutgoingMessage:
    return OutgoingMessage(key=key, channel="letter", to="上海市浦东新区世纪大道1号", text="尊敬的客户：请回电。",
                           purpose="reminder")


def test_F5_a_letter_is_one_file_for_the_print_room_and_printing_again_overwrites_it(tmp_path: Path) -> None:
    adapter = PrintRoomLetters(str(tmp_path / "letters"))
    assert isinstance(adapter, ChannelAdapter) and adapter.channels == ("letter",)
    first = adapter.send(letter())
    again = adapter.send(letter())
    [path] = list((tmp_path / "letters").iterdir())
    assert (first.status, again.status, path.name) == ("sent", "sent", "reminder_P1-policy_letter.txt")
    assert path.read_text(encoding="utf-8") == "上海市浦东新区世纪大道1号\n\n尊敬的客户：请回电。\n"


def test_F5_a_print_room_that_cannot_be_written_is_a_failed_send_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "letters"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    result = PrintRoomLetters(str(blocker)).send(letter())
    assert result.status == "failed" and str(blocker) in result.detail
