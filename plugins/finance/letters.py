"""The print room's letters (F5: when calls and messages fail, a letter goes by post). A delivery
adapter (hook `huifang_channel_adapters`, `[delivery] letter = "finance_letters"`): each letter a text
file for the print room, named after its delivery, so printing it again overwrites instead of posting twice."""
from __future__ import annotations

import re
from pathlib import Path

from huifang.core.plugin_api.channels import OutgoingMessage, SendResult


class PrintRoomLetters:
    name = "finance_letters"
    channels = ("letter",)

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, message: OutgoingMessage) -> SendResult:
        path = self.directory / (re.sub(r"[^\w.-]+", "_", message.key) + ".txt")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{message.to}\n\n{message.text}\n", encoding="utf-8")
        except OSError as e:
            return SendResult(status="failed", detail=f"{path}: {e.strerror or e}")
        return SendResult(status="sent", detail=f"printed to {path.name}")
