"""Posts from files dropped in a folder: for teams without API access to a platform,
whose exports (or a listening tool's) land in a directory.

The folder's `*.jsonl` files are read in name order, in the import schema
(docs/IMPORT.md), a batch at a time. The checkpoint is the file and the byte
offset after its last complete line, so a file still being written is read
up to its last newline and the rest on a later fetch; files are never changed
or deleted. A line that is not a post is reported with its file and line and
skipped.
"""

from pathlib import Path

from django.conf import settings

from socialdesk.connectors.base import ConnectorError, Fetched, Setting
from socialdesk.ingestion.records import RecordError, read_jsonl


class FolderListener:
    name = "folder"
    label = "A folder of exported files"
    channels = ()  # any: each line names its channel
    settings = (Setting("directory", "Folder",
                        "Where the files are dropped, on the server the desk runs on"),)

    def check(self, account) -> str:
        folder, names = self._files(account)
        return f"reads {folder}: {len(names)} .jsonl file{'' if len(names) == 1 else 's'}"

    def _files(self, account) -> tuple[Path, list[str]]:
        folder = Path(account.config.get("directory", ""))
        if not account.config.get("directory") or not folder.is_dir():
            raise ConnectorError(f"{folder} is not a directory: set the account's "
                                 "config.directory to the folder files are dropped in",
                                 ConnectorError.PERMANENT)
        try:
            return folder, sorted(p.name for p in folder.glob("*.jsonl") if p.is_file())
        except OSError as e:
            raise ConnectorError(f"cannot list {folder}: {e}") from e

    def fetch(self, account, checkpoint: dict, limit: int) -> Fetched:
        folder, names = self._files(account)
        current = checkpoint.get("file", "")
        offset, line = int(checkpoint.get("offset", 0)), int(checkpoint.get("line", 0))
        records, rejected = [], []
        for name in names:
            if name < current:
                continue
            if name != current:
                current, offset, line = name, 0, 0
            offset, line, finished = self._read(folder / name, offset, line, limit, records,
                                                rejected)
            if len(records) >= limit:
                return Fetched(records, _mark(current, offset, line), rejected, more=True)
            if not finished:
                break  # its last line is still being written: the later files wait
        return Fetched(records, _mark(current, offset, line), rejected)

    def _read(self, path: Path, offset: int, line: int, limit: int, records: list,
              rejected: list) -> tuple[int, int, bool]:
        """Read complete lines from `offset` until `records` holds `limit`. Returns the
        offset after the last line read, the lines read in the file so far, and
        whether the file ended with a complete line."""
        try:
            with path.open("rb") as stream:
                stream.seek(offset)
                for raw in stream:
                    if not raw.endswith(b"\n"):
                        return offset, line, False
                    offset += len(raw)
                    line += 1
                    for _, item in read_jsonl([raw], settings.MAX_POST_CHARS):
                        if isinstance(item, RecordError):
                            rejected.append((f"{path.name}:{line}", str(item)))
                        else:
                            records.append(item)
                    if len(records) >= limit:
                        break
                return offset, line, True
        except OSError as e:
            raise ConnectorError(f"cannot read {path}: {e}") from e


def _mark(name: str, offset: int, line: int) -> dict:
    return {"file": name, "offset": offset, "line": line} if name else {}
