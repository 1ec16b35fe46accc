"""One bad record never costs the good ones, whatever it holds.

Hypothesis mixes good records with hostile ones (numbers beyond 64 bits, dates
out of range once their offset is applied, lone surrogates, NUL, NaN, deep
nesting, thousands of digits, oversized fields, odd encodings) and feeds them
through every entry point: the file import (JSON Lines and CSV), the batch API
and the offline triage. Nothing may raise or answer 5xx; every good record is
stored and processed, every hostile one is reported on its own line or index.
Runs on whichever database the suite runs on (SQLite, and PostgreSQL in CI).
"""

import csv
import io
import json
import uuid

from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.ingestion.importer import import_records
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import read_records

EXAMPLES = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])

# Text a customer may really send: any character a database can store, control
# characters and emoji included.
storable = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1, max_size=200,
).filter(lambda t: t.strip())


def good_record(text: str, followers: int | None, tag: str, n: int) -> dict:
    record = {"channel": "x", "external_id": f"{tag}-good-{n}", "author": f"person{n}",
              "text": text, "created_at": "2026-11-16T09:00:00+05:30"}
    if followers is not None:
        record["author_followers"] = followers
    return record


# Each hostile record as the raw JSON line a file or client would send: some cannot
# even be made by json.dumps (lone surrogate escapes, NaN, 5,000 digits).
def _line(record: dict) -> str:
    return json.dumps(record)


def _base(tag: str, n: int) -> dict:
    return {"channel": "x", "external_id": f"{tag}-bad-{n}", "author": "mallory",
            "text": "hello", "created_at": "2026-11-16T09:00:00+00:00"}


HOSTILE = {
    "followers at 2**63": lambda b: _line({**b, "author_followers": 2**63}),
    "followers as a huge string": lambda b: _line({**b, "author_followers": "9" * 30}),
    "negative followers": lambda b: _line({**b, "author_followers": -1}),
    "year 1 east of UTC": lambda b: _line({**b, "created_at": "0001-01-01T00:00:00+05:00"}),
    "year 9999 west of UTC": lambda b: _line({**b, "created_at": "9999-12-31T23:59:59-05:00"}),
    "a post from next year": lambda b: _line({**b, "created_at": "2099-01-01T00:00:00+00:00"}),
    "lone surrogate in text": lambda b: _line(b).replace('"hello"', '"he\\ud800llo"'),
    "lone surrogate in author": lambda b: _line(b).replace('"mallory"', '"\\udfffmallory"'),
    "lone surrogate in an extra key": lambda b: _line({**b, "k": 1}).replace('"k"', '"\\ud83d"'),
    "lone surrogate in an extra value": lambda b: _line({**b, "meta": {"x": ["ok", "SUR"]}})
    .replace('"SUR"', '"\\udc00"'),
    "NUL in text": lambda b: _line({**b, "text": "he\x00llo"}),
    "NUL in external id": lambda b: _line({**b, "external_id": b["external_id"] + "\x00"}),
    "NUL in an extra field": lambda b: _line({**b, "note": "a\x00b"}),
    "NaN in an extra field": lambda b: _line({**b, "score": 1}).replace(": 1}", ": NaN}"),
    "Infinity in an extra field": lambda b: _line({**b, "score": 1})
    .replace(": 1}", ": -Infinity}"),
    "100,000-deep nesting": lambda b: _line({**b, "deep": 1})
    .replace(": 1}", ": " + "[" * 100_000 + "]" * 100_000 + "}"),
    "25-deep nesting": lambda b: _line({**b, "deep": 1})
    .replace(": 1}", ": " + "[" * 25 + "]" * 25 + "}"),
    "a 5,000-digit integer": lambda b: _line({**b, "n": 1})
    .replace(": 1}", ": " + "7" * 5000 + "}"),
    "a number beyond 64 bits in an extra field": lambda b: _line({**b, "n": 2**70}),
    "an external id beyond 64 bits": lambda b: _line({**b, "external_id": 2**64}),
    "oversized text": lambda b: _line({**b, "text": "x" * 40_001}),
    "oversized extra fields": lambda b: _line({**b, "blob": "y" * 100_001}),
    "text as an object": lambda b: _line({**b, "text": {"a": 1}}),
    "created_at as a number": lambda b: _line({**b, "created_at": 1700000000}),
    "a JSON array": lambda b: _line([b]),
    "a bare string": lambda b: '"just a string"',
    "truncated JSON": lambda b: _line(b)[:-5],
    "unicode digits as followers": lambda b: _line({**b, "author_followers": "\u00b2\u00b3"}),
}

# Bytes no UTF-8 decoder accepts, as some exports write them.
ODD_BYTES = [b"\xff\xfe{\x00}\x00", b'{"text": "caf\xe9"}', b'{"text": "\xc0\xaf"}',
             b'{"text": "\xed\xa0\x80"}']


def _jsonl(goods: list[dict], hostile: list[tuple[int, str]], odd: list[bytes]) -> bytes:
    lines = [json.dumps(g).encode() for g in goods]
    for position, line in hostile:
        lines.insert(position % (len(lines) + 1), line.encode("utf-8", "surrogatepass"))
    for position, raw in enumerate(odd):
        lines.insert(position * 3 % (len(lines) + 1), raw)
    return b"\n".join(lines) + b"\n"


hostile_names = st.lists(st.sampled_from(sorted(HOSTILE)), min_size=1, max_size=6)
goods = st.lists(st.tuples(storable, st.one_of(st.none(), st.integers(0, 2**63 - 1))),
                 min_size=1, max_size=8)


def _assert_stored_and_processed(expected: list[dict]) -> None:
    ids = [g["external_id"] for g in expected]
    stored = {p.external_id: p for p in Post.objects.filter(channel="x", external_id__in=ids)}
    assert sorted(stored) == sorted(ids)
    for good in expected:
        post = stored[good["external_id"]]
        assert post.text == good["text"]
        assert post.processed_at is not None and post.process_error == ""


@EXAMPLES
@given(goods=goods, hostile=hostile_names, positions=st.lists(st.integers(0, 50), min_size=6,
                                                              max_size=6),
       odd=st.lists(st.sampled_from(ODD_BYTES), max_size=2))
def test_a_jsonl_import_keeps_every_good_record_whatever_the_bad_ones_hold(
        db, teams, goods, hostile, positions, odd):
    tag = uuid.uuid4().hex[:8]
    expected = [good_record(text, followers, tag, n) for n, (text, followers) in enumerate(goods)]
    bad = [(positions[n], HOSTILE[name](_base(tag, n))) for n, name in enumerate(hostile)]
    raw = _jsonl(expected, bad, odd)

    report = import_records(read_records(io.BytesIO(raw), "jsonl", 40_000))

    assert report.created == len(expected)
    assert len(report.rejected) == len(bad) + len(odd)
    assert all(reason for _, reason in report.rejected)
    assert not Post.objects.filter(external_id__startswith=f"{tag}-bad").exists()
    _assert_stored_and_processed(expected)


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["channel", "external_id", "author", "text", "created_at",
                                  "author_followers"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogateescape")


CSV_HOSTILE = {
    "a cell over 131,072 characters": lambda b: {**b, "text": "z" * 131_073},
    "followers beyond 64 bits": lambda b: {**b, "author_followers": str(2**64)},
    "year 1 east of UTC": lambda b: {**b, "created_at": "0001-01-01T00:00:00+01:00"},
    "NUL in text": lambda b: {**b, "text": "a\x00b"},
    "undecodable bytes": lambda b: {**b, "text": "caf\udce9"},
}


@EXAMPLES
@given(goods=goods, hostile=st.lists(st.sampled_from(sorted(CSV_HOSTILE)), min_size=1,
                                     max_size=4),
       seed=st.randoms(use_true_random=False))
def test_a_csv_import_keeps_every_good_record_whatever_the_bad_ones_hold(
        db, teams, goods, hostile, seed):
    tag = uuid.uuid4().hex[:8]
    expected = [good_record(text, followers, tag, n) for n, (text, followers) in enumerate(goods)]
    rows = [{**g, "author_followers": g.get("author_followers", "")} for g in expected]
    bad = [CSV_HOSTILE[name]({**_base(tag, n), "author_followers": ""})
           for n, name in enumerate(hostile)]
    mixed = rows + bad
    seed.shuffle(mixed)

    report = import_records(read_records(io.BytesIO(_csv(mixed)), "csv", 40_000))

    assert report.created == len(expected)
    assert len(report.rejected) == len(bad)
    assert not Post.objects.filter(external_id__startswith=f"{tag}-bad").exists()
    _assert_stored_and_processed(expected)


def _api_body(goods: list[dict], hostile: list[tuple[int, str]]) -> str:
    # The records as a JSON array written by hand, so that hostile ones go in verbatim.
    items = [json.dumps(g) for g in goods]
    for position, line in hostile:
        items.insert(position % (len(items) + 1), line)
    return '{"records": [' + ", ".join(items) + "]}"


# The API takes a JSON document: what cannot be one whole document (bytes, a
# truncated record) is the file import's concern; the rest applies here too.
API_HOSTILE = sorted(set(HOSTILE) - {"truncated JSON", "100,000-deep nesting"})


@EXAMPLES
@given(goods=goods, hostile=st.lists(st.sampled_from(API_HOSTILE), min_size=1, max_size=6),
       positions=st.lists(st.integers(0, 50), min_size=6, max_size=6))
def test_the_batch_api_keeps_every_good_record_whatever_the_bad_ones_hold(
        client, teams, api_token, goods, hostile, positions):
    tag = uuid.uuid4().hex[:8]
    expected = [good_record(text, followers, tag, n) for n, (text, followers) in enumerate(goods)]
    bad = [(positions[n], HOSTILE[name](_base(tag, n))) for n, name in enumerate(hostile)]
    body = _api_body(expected, bad).encode("utf-8", "surrogatepass")

    response = client.post("/api/v1/posts", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api_token}")

    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    assert (answer["created"], answer["rejected"]) == (len(expected), len(bad))
    rejected = [r for r in answer["results"] if r["status"] == "rejected"]
    assert all(r["error"] for r in rejected)
    _assert_stored_and_processed(expected)


def test_a_deeply_nested_api_body_is_refused_with_a_json_error(client, teams, api_token):
    body = '{"records": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    response = client.post("/api/v1/posts", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    assert not Post.objects.exists()


@EXAMPLES
@given(goods=goods, hostile=hostile_names, positions=st.lists(st.integers(0, 50), min_size=6,
                                                              max_size=6))
def test_offline_triage_answers_every_good_record_and_names_every_bad_line(
        tmp_path_factory, capsys, goods, hostile, positions):
    tag = uuid.uuid4().hex[:8]
    expected = [good_record(text, followers, tag, n) for n, (text, followers) in enumerate(goods)]
    bad = [(positions[n], HOSTILE[name](_base(tag, n))) for n, name in enumerate(hostile)]
    path = tmp_path_factory.mktemp("triage") / "posts.jsonl"
    path.write_bytes(_jsonl(expected, bad, []))

    try:
        call_command("triage_file", str(path))
    except SystemExit as e:  # non-zero: some lines were rejected
        assert e.code not in (0, None)
    except Exception as e:  # a CommandError is a clean refusal; anything else is a crash
        assert type(e).__name__ == "CommandError", repr(e)
    out, err = capsys.readouterr()
    answered = [json.loads(line)["external_id"] for line in out.splitlines() if line.strip()]
    assert answered == [g["external_id"] for g in expected]
    assert err.count("posts.jsonl:") >= len(bad)
