"""Delivery to a JSON Lines file per channel, until real platform connectors are set up.

Each line is what the platform would have been sent (hide, unhide and delete go
to `<channel>.moderation.jsonl`); a test or an operator can
read it back. The write is one append of one line, so concurrent workers do
not interleave records.
"""

import json
import os
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from socialdesk.connectors.base import Delivered, DeliveryError, Outgoing


class FileConnector:
    name = "file"

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory or settings.OUTBOX_DIR)

    def path_for(self, channel: str) -> Path:
        return self.directory / f"{channel}.jsonl"

    def find_delivered(self, account, outgoing: Outgoing) -> Delivered | None:
        """The reply's line in the file, by its key (a crash after the write)."""
        try:
            with self.path_for(outgoing.channel).open(encoding="utf-8") as lines:
                for line in lines:
                    if outgoing.key and f'"key": "{outgoing.key}"' in line:
                        found = json.loads(line)
                        if found.get("key") == outgoing.key:
                            return Delivered(external_id=found["external_id"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise DeliveryError(f"could not read the outbox file: {e}") from e
        return None

    def deliver(self, account, outgoing: Outgoing) -> Delivered:
        external_id = f"desk-{outgoing.reply_id}"
        sent = {k: v for k, v in asdict(outgoing).items() if k != "context"}
        self._append(self.path_for(outgoing.channel),
                     {**sent, "external_id": external_id,
                      "delivered_at": timezone.now().isoformat()})
        return Delivered(external_id=external_id)

    def moderate(self, account, action: str, channel: str, external_id: str) -> None:
        """A line saying what to do to which post, in the channel's moderation file
        (`<channel>.moderation.jsonl`)."""
        self._append(self.directory / f"{channel}.moderation.jsonl",
                     {"action": action, "channel": channel, "external_id": external_id,
                      "at": timezone.now().isoformat()})

    def _append(self, path: Path, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
        except OSError as e:
            raise DeliveryError(f"could not write the outbox file: {e}") from e
