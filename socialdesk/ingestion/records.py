"""The import schema: read JSON Lines, CSV and the twcs layout into checked records.

Every reader yields (line number, Record or RecordError) so that a bad record
is reported where it is and the good ones still go in.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

CHANNELS = ("x", "facebook", "instagram", "reddit", "mastodon", "bluesky", "youtube", "email")
REQUIRED = ("channel", "external_id", "author", "text", "created_at")
OPTIONAL = ("in_reply_to", "url", "visibility", "author_name", "author_followers", "lang",
            "direction", "account", "author_email", "author_avatar")
FORMATS = ("jsonl", "csv", "twcs")
_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# Undecodable bytes read with errors="surrogateescape" become lone surrogates.
_SURROGATE = re.compile("[\ud800-\udfff]")
# The shape of an address (one @, a dot in the domain, no spaces), not proof it exists.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RecordError(ValueError):
    pass


@dataclass(slots=True)
class Record:
    channel: str
    external_id: str
    author: str
    text: str
    created_at: datetime
    in_reply_to: str = ""
    url: str = ""
    visibility: str = "public"
    author_name: str = ""
    author_followers: int | None = None
    lang: str = ""
    direction: str = "inbound"
    account: str = ""
    author_email: str = ""
    author_avatar: str = ""
    extra: dict = field(default_factory=dict)


def _string(data: dict, key: str, max_len: int, required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise RecordError(f"missing field {key!r}")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(f"{key!r} must be a string, not {type(value).__name__}")
    value = str(value)
    if len(value) > max_len:
        raise RecordError(f"{key!r} is {len(value):,} characters; the limit is {max_len:,}")
    if _SURROGATE.search(value):
        raise RecordError(f"{key!r} is not valid UTF-8")
    return value


def parse_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"'created_at' {value!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise RecordError(f"'created_at' {value!r} has no UTC offset (e.g. +00:00)")
    return parsed


def check_record(data: object, max_chars: int) -> Record:
    """A Record from one decoded JSON object or CSV row, or RecordError saying why not."""
    if not isinstance(data, dict):
        raise RecordError(f"a record must be a JSON object, not {type(data).__name__}")
    for key in REQUIRED:
        if data.get(key) in (None, ""):
            raise RecordError(f"missing field {key!r}")
    channel = _string(data, "channel", 32, True).lower()
    if not _CHANNEL_NAME.fullmatch(channel):
        raise RecordError(f"'channel' {channel!r} must be a name such as x, facebook or email")
    created = data["created_at"]
    if not isinstance(created, str):
        raise RecordError(f"'created_at' must be a string, not {type(created).__name__}")
    visibility = _string(data, "visibility", 16) or "public"
    if visibility not in ("public", "private"):
        raise RecordError(f"'visibility' must be public or private, not {visibility!r}")
    direction = _string(data, "direction", 16) or "inbound"
    if direction not in ("inbound", "outbound"):
        raise RecordError(f"'direction' must be inbound or outbound, not {direction!r}")
    followers = data.get("author_followers")
    if followers in ("", None):
        followers = None
    elif isinstance(followers, str) and followers.strip().isdigit():
        followers = int(followers)
    elif isinstance(followers, bool) or not isinstance(followers, int) or followers < 0:
        raise RecordError(f"'author_followers' must be a whole number, not {followers!r}")
    url = _string(data, "url", 2000)
    if url and not re.match(r"https?://", url, re.IGNORECASE):
        raise RecordError(f"'url' must start with http:// or https://, not {url[:40]!r}")
    email = _string(data, "author_email", 254).strip()
    if email and not _EMAIL.fullmatch(email):
        raise RecordError(f"'author_email' {email[:40]!r} is not an e-mail address")
    avatar = _string(data, "author_avatar", 2000).strip()
    if avatar and not re.match(r"https?://\S+$", avatar, re.IGNORECASE):
        raise RecordError(f"'author_avatar' must be an http:// or https:// URL, "
                          f"not {avatar[:40]!r}")
    text = _string(data, "text", max_chars, True)
    if not text.strip():
        raise RecordError("'text' is empty")
    known = set(REQUIRED) | set(OPTIONAL)
    return Record(
        channel=channel,
        external_id=_string(data, "external_id", 255, True),
        author=_string(data, "author", 255, True).lstrip("@"),
        text=text,
        created_at=parse_datetime(created),
        in_reply_to=_string(data, "in_reply_to", 255),
        url=url,
        visibility=visibility,
        author_name=_string(data, "author_name", 255),
        author_followers=followers,
        lang=_string(data, "lang", 16).lower(),
        direction=direction,
        account=_string(data, "account", 255).lstrip("@").lower(),
        author_email=email,
        author_avatar=avatar,
        extra={k: v for k, v in data.items() if k not in known},
    )


Parsed = tuple[int, Record | RecordError]


def read_jsonl(stream: Iterable[bytes], max_chars: int) -> Iterator[Parsed]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield number, RecordError(f"not valid UTF-8 (byte {e.start})")
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, RecordError(f"not valid JSON: {e.msg} (column {e.colno})")
            continue
        try:
            yield number, check_record(data, max_chars)
        except RecordError as e:
            yield number, e


def _csv_rows(stream: io.BufferedIOBase) -> Iterator[tuple[int, dict | RecordError]]:
    # surrogateescape keeps undecodable bytes as lone surrogates, which the
    # field checks report as invalid UTF-8 on the right line.
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    line = 1
    for row in reader:
        number, line = line + 1, reader.line_num
        if None in row:
            yield number, RecordError(f"{len(row[None]) + len(reader.fieldnames)} columns; "
                                      f"the header has {len(reader.fieldnames)}")
            continue
        yield number, row


def read_csv(stream: io.BufferedIOBase, max_chars: int) -> Iterator[Parsed]:
    for number, row in _csv_rows(stream):
        if isinstance(row, RecordError):
            yield number, row
            continue
        try:
            yield number, check_record({k: v for k, v in row.items() if k}, max_chars)
        except RecordError as e:
            yield number, e


_TWCS_TIME = "%a %b %d %H:%M:%S %z %Y"


def read_twcs(stream: io.BufferedIOBase, max_chars: int) -> Iterator[Parsed]:
    """The Customer Support on Twitter layout: tweet_id, author_id, inbound, created_at, ..."""
    for number, row in _csv_rows(stream):
        if isinstance(row, RecordError):
            yield number, row
            continue
        try:
            if not row.get("created_at"):
                raise RecordError("missing field 'created_at'")
            try:
                created = datetime.strptime(row["created_at"].strip(), _TWCS_TIME)
            except ValueError:
                raise RecordError(
                    f"'created_at' {row['created_at']!r} is not a twcs date") from None
            inbound = (row.get("inbound") or "").strip()
            if inbound not in ("True", "False"):
                raise RecordError(f"'inbound' must be True or False, not {inbound!r}")
            parent = (row.get("in_response_to_tweet_id") or "").strip()
            if parent.endswith(".0"):
                parent = parent[:-2]
            record = check_record({
                "channel": "x",
                "external_id": (row.get("tweet_id") or "").strip(),
                "author": (row.get("author_id") or "").strip(),
                "text": row.get("text"),
                "created_at": created.isoformat(),
                "in_reply_to": parent,
                "direction": "inbound" if inbound == "True" else "outbound",
            }, max_chars)
            yield number, record
        except RecordError as e:
            yield number, e


def read_records(stream: io.BufferedIOBase, fmt: str, max_chars: int) -> Iterator[Parsed]:
    if fmt == "jsonl":
        return read_jsonl(stream, max_chars)
    if fmt == "csv":
        return read_csv(stream, max_chars)
    if fmt == "twcs":
        return read_twcs(stream, max_chars)
    raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")


def guess_format(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    return "jsonl"
