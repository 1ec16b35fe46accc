"""Synthetic posts for benchmarks: varied kinds, threads and channels, seeded."""

import json
import random
from datetime import UTC, datetime, timedelta

CHANNELS = ["x", "x", "x", "facebook", "instagram", "email", "reddit"]
OPENERS = [
    "my kettle stopped working after two weeks, really disappointed",
    "still waiting for my refund, order {order} was cancelled ages ago",
    "how do I descale the coffee machine? the manual is not clear",
    "love the new toaster, best breakfast upgrade this year!",
    "would be great if the app let me pause my subscription",
    "the app is down again, can't log in at all",
    "earn $500 a day from home, click here http://spam.example/{n}",
    "does the 1.7 litre kettle work with 110V sockets?",
    "charged twice for my beans this month, please fix this",
    "thanks for the quick help yesterday, sorted now",
    "I heard they are closing all stores next month",
    "worst customer service ever, nobody answers emails",
    "is there a store near the station open on Sunday?",
    "you are all incompetent clowns",
    "the handle got so hot it burned my fingers",
    "just made the perfect espresso, happy morning",
]
FOLLOW_UPS = [
    "any update on this?", "thanks, sent you a DM", "still not fixed", "that worked, thank you!",
    "order number is {order}", "this is getting ridiculous",
]


def posts(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out: list[dict] = []
    open_threads: list[dict] = []
    for i in range(n):
        at = start + timedelta(seconds=i * 7 + rng.randint(0, 5))
        if open_threads and rng.random() < 0.3:
            parent = rng.choice(open_threads)
            text = rng.choice(FOLLOW_UPS).format(order=f"BK-{rng.randint(10000, 99999)}")
            record = {"channel": parent["channel"], "external_id": f"s{i}",
                      "author": parent["author"], "text": text,
                      "in_reply_to": parent["external_id"]}
            if rng.random() < 0.4:
                record["direction"] = "outbound"
                record["author"] = "brand"
                record["text"] = "Sorry about this, we have sent you a DM to sort it out."
        else:
            text = rng.choice(OPENERS).format(order=f"BK-{rng.randint(10000, 99999)}", n=i)
            record = {"channel": rng.choice(CHANNELS), "external_id": f"s{i}",
                      "author": f"user{rng.randint(1, max(10, n // 4))}", "text": text,
                      "author_followers": rng.choice([12, 80, 300, 1500, 25000])}
            open_threads.append(record)
            if len(open_threads) > 200:
                open_threads.pop(0)
        record["created_at"] = at.isoformat()
        if record["channel"] == "email":
            record["visibility"] = "private"
        out.append(record)
    return out


def jsonl_bytes(records: list[dict]) -> list[bytes]:
    return [json.dumps(r).encode() + b"\n" for r in records]
