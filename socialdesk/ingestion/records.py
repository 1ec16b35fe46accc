"""The import schema: read JSON Lines, CSV and the twcs layout into checked records.

Every reader yields (line number, Record or RecordError) so that a bad record
is reported where it is and the good ones still go in.
"""

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

REQUIRED = ("channel", "external_id", "author", "text", "created_at")
OPTIONAL = ("in_reply_to", "url", "visibility", "author_name", "author_followers", "lang",
            "direction", "account", "author_email", "author_avatar")
FORMATS = ("jsonl", "csv", "twcs")
_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# Undecodable bytes read with errors="surrogateescape", and JSON's "\\ud800"
# escapes, become lone surrogates, which no database can store. NUL is refused
# too: PostgreSQL cannot store it in text or JSON.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")
# What the database's columns hold: followers is a 64-bit integer.
MAX_FOLLOWERS = 2**63 - 1
# Dates a post can have: social networks, and e-mail in any archive worth
# importing, are younger than 1990; a post from more than a day ahead means a
# wrong clock or offset, and would start SLA clocks in the future.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
# Fields outside the schema are kept as the post's raw payload, within bounds
# that keep one record from costing the batch (deep nesting, huge payloads).
MAX_EXTRA_DEPTH = 20
MAX_EXTRA_CHARS = 100_000
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
    if isinstance(value, LongNumber):
        raise RecordError(f"{key!r} is {value}; send it as a string")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(f"{key!r} must be a string, not {type(value).__name__}")
    if isinstance(value, int) and not -MAX_FOLLOWERS <= value <= MAX_FOLLOWERS:
        raise RecordError(f"{key!r} is a number too large for an identifier; send it as a string")
    value = str(value)
    if len(value) > max_len:
        raise RecordError(f"{key!r} is {len(value):,} characters; the limit is {max_len:,}")
    _check_storable(key, value)
    return value


def _check_storable(key: str, value: str) -> None:
    found = _UNSTORABLE.search(value)
    if found:
        what = "a NUL character" if found.group() == "\x00" else "invalid UTF-8"
        raise RecordError(f"{key!r} contains {what} (at character {found.start() + 1:,})")


def parse_datetime(value: str, now: datetime | None = None) -> datetime:
    shown = value[:40]
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"'created_at' {shown!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise RecordError(f"'created_at' {shown!r} has no UTC offset (e.g. +00:00)")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        raise RecordError(f"'created_at' {shown!r} is out of range in UTC") from None
    latest = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
    if not EARLIEST <= utc <= latest:
        raise RecordError(f"'created_at' {shown!r} is not between {EARLIEST:%Y-%m-%d} and "
                          "tomorrow: check the date and its UTC offset")
    return parsed


def _check_extra(extra: dict) -> dict:
    """The fields outside the schema, if the database can store them as they are."""
    if not extra:
        return extra
    stack = [(extra, 1, "")]
    while stack:  # iterative: a recursive walk would itself overflow on deep nesting
        value, depth, path = stack.pop()
        if isinstance(value, str):
            _check_storable(path, value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise RecordError(f"{path!r} is {value}, which JSON cannot store")
        elif isinstance(value, int) and not isinstance(value, bool) and \
                not -MAX_FOLLOWERS <= value <= MAX_FOLLOWERS:
            raise RecordError(f"{path!r} is a number beyond 64 bits")
        elif isinstance(value, LongNumber):
            raise RecordError(f"{path!r} is {value}, beyond 64 bits")
        elif isinstance(value, (dict, list)):
            if depth > MAX_EXTRA_DEPTH:
                raise RecordError(f"{path!r} is nested more than {MAX_EXTRA_DEPTH} levels deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    _check_storable(name, key)
                stack.append((item, depth + 1, name))
    size = len(json.dumps(extra, ensure_ascii=False))
    if size > MAX_EXTRA_CHARS:
        raise RecordError(f"fields outside the schema take {size:,} characters; "
                          f"the limit is {MAX_EXTRA_CHARS:,}")
    return extra


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
    elif isinstance(followers, str) and followers.strip().isascii() \
            and followers.strip().isdigit() and len(followers.strip()) <= 19:
        followers = int(followers)
    if followers is not None and (isinstance(followers, bool) or not isinstance(followers, int)
                                  or not 0 <= followers <= MAX_FOLLOWERS):
        raise RecordError(f"'author_followers' must be a whole number from 0 to "
                          f"{MAX_FOLLOWERS:,}, not {str(followers)[:40]!r}")
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
        extra=_check_extra({k: v for k, v in data.items() if k not in known}),
    )


Parsed = tuple[int, Record | RecordError]


class LongNumber:
    """A JSON number too long to be one the desk stores: kept as its digits, so
    that the record holding it is refused on its own and the document around it
    still parses."""

    def __init__(self, digits: str):
        self.digits = digits

    def __str__(self) -> str:
        return f"a number of {len(self.digits):,} digits"


def _number(digits: str) -> int | LongNumber:
    # Past 19 digits no integer fits the database; past Python's own limit
    # (4,300 digits) int() itself would refuse the whole document.
    return int(digits) if len(digits) <= 20 else LongNumber(digits)


def _not_a_number(name: str) -> float:
    return float(name.replace("Infinity", "inf"))  # NaN, Infinity, -Infinity


def loads(document: str | bytes) -> object:
    """json.loads, except that a number no record may hold (NaN, Infinity, thousands
    of digits) is kept for the record check to refuse, instead of failing the
    whole document: one record in a batch must not cost the others."""
    return json.loads(document, parse_int=_number, parse_constant=_not_a_number)


def line_limit(max_chars: int) -> int:
    """The longest line worth decoding: the text and the extra fields at their limits,
    every character escaped, and room for the other fields."""
    return 6 * (max_chars + MAX_EXTRA_CHARS) + 65_536


def decode_json(line: str | bytes) -> object:
    """One JSON document, or RecordError saying why not (never another exception)."""
    try:
        return loads(line)
    except json.JSONDecodeError as e:
        raise RecordError(f"not valid JSON: {e.msg} (column {e.colno})") from None
    except RecursionError:
        raise RecordError("not valid JSON here: nested too deeply") from None
    except ValueError as e:  # any other refusal of the decoder's
        raise RecordError(f"not valid JSON here: {str(e)[:120]}") from None


def read_jsonl(stream: Iterable[bytes], max_chars: int) -> Iterator[Parsed]:
    longest = line_limit(max_chars)
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        if len(raw) > longest:
            yield number, RecordError(f"the line is {len(raw):,} bytes; the limit is "
                                      f"{longest:,}")
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield number, RecordError(f"not valid UTF-8 (byte {e.start})")
            continue
        try:
            yield number, check_record(decode_json(line), max_chars)
        except RecordError as e:
            yield number, e


def _csv_rows(stream: io.BufferedIOBase, max_chars: int
              ) -> Iterator[tuple[int, dict | RecordError]]:
    # A cell may be as long as the text limit and then some, so that an
    # oversized text is reported by the field check, with its limit, rather
    # than by the CSV reader.
    csv.field_size_limit(max(csv.field_size_limit(), 2 * max_chars + 1024))
    # surrogateescape keeps undecodable bytes as lone surrogates, which the
    # field checks report as invalid UTF-8 on the right line.
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            # The reader has consumed the broken line and can go on after it.
            number, line = line + 1, reader.line_num
            yield number, RecordError(f"not valid CSV: {e}")
            continue
        number, line = line + 1, reader.line_num
        if None in row:
            yield number, RecordError(f"{len(row[None]) + len(reader.fieldnames)} columns; "
                                      f"the header has {len(reader.fieldnames)}")
            continue
        yield number, row


def read_csv(stream: io.BufferedIOBase, max_chars: int) -> Iterator[Parsed]:
    for number, row in _csv_rows(stream, max_chars):
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
    for number, row in _csv_rows(stream, max_chars):
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
