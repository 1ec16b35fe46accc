"""The Bluesky connector against a local HTTP server answering its XRPC calls with
payloads shaped as the lexicons define them (fixtures/, each naming its source):
for what the reference services cannot be made to do on demand (rate limits,
tokens revoked early, late and repeated notifications) and for chat, which they
do not run. The client is the real atproto SDK, pointed at the local server."""

import json
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from werkzeug import Response

from socialdesk.connectors import listening
from socialdesk.connectors.base import ConnectorError, DeliveryError, Outgoing
from socialdesk.connectors.bluesky.connector import BlueskyConnector
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post

FIXTURES = Path(__file__).parent / "fixtures"
BRAND = "did:plc:brandkettleco000000000000"
DANA = "did:plc:dana00000000000000000000"
PAGES = json.loads((FIXTURES / "notifications.json").read_text())["pages"]
ERRORS = json.loads((FIXTURES / "errors.json").read_text())


def body(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())["body"]


def xrpc(method: str) -> str:
    return f"/xrpc/{method}"


@pytest.fixture
def account(db, httpserver):
    httpserver.expect_request(xrpc("com.atproto.server.createSession"),
                              method="POST").respond_with_json(body("create_session"))
    account = ChannelAccount(channel="bluesky", handle="kettleco.bsky.social",
                             listener="bluesky", delivery="bluesky",
                             config={"service": httpserver.url_for("/").rstrip("/")})
    account.set_secrets({"app_password": "abcd-efgh-ijkl-mnop"})
    account.save()
    return account


def pages(httpserver, *bodies):
    """listNotifications answering page after page, as the cursor asks."""
    by_cursor = {None: bodies[0]}
    by_cursor.update((before["cursor"], after)
                     for before, after in zip(bodies[:-1], bodies[1:], strict=True))

    def answer(request):
        page = by_cursor[request.args.get("cursor")]
        return Response(json.dumps(page), content_type="application/json")

    httpserver.expect_request(xrpc("app.bsky.notification.listNotifications")
                              ).respond_with_handler(answer)


def test_notifications_become_records_with_what_a_reply_needs(account, httpserver):
    pages(httpserver, PAGES[0], PAGES[1])
    checkpoint = {"notifications": {"seen": "2026-12-06T12:00:00.000Z"}}
    fetched = BlueskyConnector().fetch(account, checkpoint, 100)
    quote, mention, reply = fetched.records
    assert (mention.author, mention.author_name, mention.lang) == ("leo.example.com", "Leo", "de")
    assert mention.url == "https://bsky.app/profile/leo.example.com/post/3mleomention2"
    assert mention.created_at.isoformat() == "2026-12-07T09:19:59.500000+00:00"
    assert mention.extra["root"] == {"uri": mention.external_id, "cid": mention.extra["cid"]}
    assert (quote.extra["reason"], quote.text) == ("quote", PAGES[0]["notifications"][0][
        "record"]["text"])
    ours = f"at://{BRAND}/app.bsky.feed.post/3mbrandpost22"
    assert reply.in_reply_to == ours and reply.extra["root"]["uri"] == ours
    assert fetched.more, "the second page may hold more since what was seen"

    fetched = BlueskyConnector().fetch(account, fetched.checkpoint, 100)
    # A photo with no words is not a post the desk can read: said, with where.
    [(where, why)] = fetched.rejected
    assert where == PAGES[1]["notifications"][0]["uri"] and "'text'" in why
    assert fetched.records == [], "the older mention is before what was seen"
    assert fetched.checkpoint["notifications"] == {"seen": "2026-12-07T09:30:00.000Z"}
    assert not fetched.more


def test_a_fetch_interrupted_between_pages_goes_on_from_its_cursor(account, httpserver):
    pages(httpserver, PAGES[0], PAGES[1])
    start = {"notifications": {"seen": "2026-12-01T00:00:00.000Z"}}
    first = BlueskyConnector().fetch(account, start, 100)
    assert first.more and first.checkpoint["notifications"] == {
        "seen": "2026-12-01T00:00:00.000Z", "top": "2026-12-07T09:30:00.000Z",
        "cursor": PAGES[0]["cursor"]}
    # Restarted from the saved checkpoint: the second page, then the sweep is done.
    second = BlueskyConnector().fetch(account, json.loads(json.dumps(first.checkpoint)), 100)
    assert [r.external_id for r in second.records] == [PAGES[1]["notifications"][1]["uri"]]
    assert second.checkpoint["notifications"] == {"seen": "2026-12-07T09:30:00.000Z"}
    assert not second.more


def test_late_and_repeated_notifications_are_heard_and_stored_once(account, httpserver, teams):
    new, late, old = (dict(n) for n in PAGES[0]["notifications"])
    # Listed after the last fetch with a time before its newest (09:25): within the
    # sweep's overlap, so heard; then listed again on the next page.
    late["indexedAt"] = "2026-12-07T09:22:00.000Z"
    old["indexedAt"] = "2026-12-07T08:00:00.000Z"
    pages(httpserver, {"notifications": [new, late], "cursor": "next"},
          {"notifications": [late, old]})
    account.checkpoint = {"notifications": {"seen": "2026-12-07T09:25:00.000Z"}}
    account.save()

    report = listening.do_poll_account(account)
    assert (report.created, report.duplicates, report.error) == (2, 1, "")
    assert set(Post.objects.values_list("external_id", flat=True)) == {new["uri"], late["uri"]}
    account.refresh_from_db()
    assert account.checkpoint == {"notifications": {"seen": "2026-12-07T09:30:00.000Z"},
                                  "search": {}}


def test_a_rate_limited_fetch_waits_until_the_window_resets(account, httpserver):
    reset = int(time.time()) + 120
    httpserver.expect_request(xrpc("app.bsky.notification.listNotifications")).respond_with_json(
        ERRORS["rate_limited"], status=429, headers={
            "RateLimit-Limit": "3000", "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset), "RateLimit-Policy": "3000;w=300"})
    with pytest.raises(ConnectorError, match="Rate Limit Exceeded") as limited:
        BlueskyConnector().fetch(account, {}, 50)
    assert limited.value.kind == ConnectorError.RETRYABLE
    assert 115 <= limited.value.retry_after <= 120

    before = timezone.now()
    listening.do_poll_account(account)
    account.refresh_from_db()
    assert account.error_kind == "retryable"
    assert account.next_poll_at >= before + timedelta(seconds=110)


def test_a_token_refused_before_its_time_is_refreshed_once_and_kept(account, httpserver):
    httpserver.expect_oneshot_request(xrpc("app.bsky.notification.listNotifications")
                                      ).respond_with_json(ERRORS["expired_token"], status=400)
    httpserver.expect_request(xrpc("com.atproto.server.refreshSession"), method="POST",
                              headers={"Authorization": "Bearer "
                                       + body("create_session")["refreshJwt"]}
                              ).respond_with_json(body("refresh_session"))
    pages(httpserver, PAGES[1])
    fetched = BlueskyConnector().fetch(account, {"notifications": {
        "seen": "2026-12-01T00:00:00.000Z"}}, 50)
    assert len(fetched.records) == 1
    account.refresh_from_db()
    assert body("refresh_session")["accessJwt"] in account.secrets()["session"]["string"]
    assert account.secrets()["app_password"] == "abcd-efgh-ijkl-mnop"


def test_a_revoked_session_and_a_refused_password_ask_for_new_credentials(db, httpserver):
    httpserver.expect_request(xrpc("app.bsky.notification.listNotifications")
                              ).respond_with_json(ERRORS["expired_token"], status=400)
    httpserver.expect_request(xrpc("com.atproto.server.refreshSession")).respond_with_json(
        ERRORS["revoked_token"], status=400)
    signed_in = iter([Response(json.dumps(body("create_session")),
                               content_type="application/json"),
                      Response(json.dumps(ERRORS["wrong_password"]), status=401,
                               content_type="application/json")])
    httpserver.expect_request(xrpc("com.atproto.server.createSession")).respond_with_handler(
        lambda request: next(signed_in))
    account = ChannelAccount(channel="bluesky", handle="kettleco.bsky.social",
                             listener="bluesky", config={"service": httpserver.url_for("/")})
    account.set_secrets({"app_password": "abcd-efgh-ijkl-mnop"})
    account.save()

    report = listening.do_poll_account(account)
    assert "Invalid identifier or password" in report.error
    account.refresh_from_db()
    assert (account.error_kind, account.next_poll_at) == ("reauthorise", None)


def test_the_main_password_is_refused(account, httpserver):
    httpserver.clear_all_handlers()
    httpserver.expect_request(xrpc("com.atproto.server.createSession")).respond_with_json(
        body("create_session_main_password"))
    with pytest.raises(ConnectorError, match="main password") as refused:
        BlueskyConnector().check(account)
    assert refused.value.kind == ConnectorError.REAUTHORISE


def outgoing(**more) -> Outgoing:
    post = body("get_posts")["posts"][0]
    return Outgoing(**{"reply_id": 7, "channel": "bluesky", "text": "Sorry Leo, we're on it.",
                       "visibility": "public", "in_reply_to": post["uri"],
                       "recipient": "leo.example.com", "case_ref": "C-7", "key": "k-7",
                       "context": {"cid": post["cid"], "author_did": DANA,
                                   "root": {"uri": post["uri"], "cid": post["cid"]}},
                       **more})


def test_a_rate_limited_reply_is_tried_again_after_the_reset(account, httpserver):
    httpserver.expect_request(xrpc("app.bsky.feed.getPosts")).respond_with_json(
        body("get_posts"))
    httpserver.expect_request(xrpc("com.atproto.repo.createRecord")).respond_with_json(
        ERRORS["rate_limited"], status=429, headers={
            "RateLimit-Reset": str(int(time.time()) + 60), "RateLimit-Remaining": "0"})
    httpserver.expect_request(xrpc("com.atproto.repo.getRecord")).respond_with_json(
        ERRORS["record_not_found"], status=400)
    with pytest.raises(DeliveryError, match="Rate Limit Exceeded") as limited:
        BlueskyConnector().deliver(account, outgoing())
    assert limited.value.retryable and 55 <= limited.value.retry_after <= 60


def test_a_reply_names_the_thread_root_and_the_post_answered(account, httpserver):
    httpserver.expect_request(xrpc("app.bsky.feed.getPosts")).respond_with_json(
        body("get_posts"))
    sent = []

    def create(request):
        sent.append(request.get_json())
        answer = body("create_record")
        answer["uri"] = answer["uri"].replace("RKEY", sent[-1]["rkey"])
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request(xrpc("com.atproto.repo.createRecord"), method="POST"
                              ).respond_with_handler(create)
    root = {"uri": f"at://{DANA}/app.bsky.feed.post/3mdanaroot222", "cid": "bafyreiroot"}
    delivered = BlueskyConnector().deliver(account, outgoing(context={"root": root}))

    refs = {name: {"uri": ref["uri"], "cid": ref["cid"]}
            for name, ref in sent[0]["record"]["reply"].items() if name != "$type"}
    parent = body("get_posts")["posts"][0]
    assert refs == {"root": root, "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
    assert (sent[0]["repo"], sent[0]["collection"]) == (BRAND, "app.bsky.feed.post")
    assert delivered.external_id == f"at://{BRAND}/app.bsky.feed.post/{sent[0]['rkey']}"
    assert delivered.url.endswith(f"/profile/kettleco.bsky.social/post/{sent[0]['rkey']}")


def test_a_private_reply_goes_out_as_a_chat_message(account, httpserver):
    proxy = {"atproto-proxy": "did:web:api.bsky.chat#bsky_chat"}
    httpserver.expect_request(xrpc("chat.bsky.convo.getConvoForMembers"), headers=proxy,
                              query_string={"members": DANA}
                              ).respond_with_json(body("convo"))
    httpserver.expect_request(xrpc("chat.bsky.convo.sendMessage"), method="POST", headers=proxy,
                              ).respond_with_json(body("message"))
    delivered = BlueskyConnector().deliver(account, outgoing(
        visibility="private", text="Sorry Dana, here is your label."))
    sent = httpserver.log[-1][0].get_json()
    assert (sent["convoId"], sent["message"]["text"]) == ("3mconvodanaxx",
                                                          "Sorry Dana, here is your label.")
    assert delivered.external_id == "chat:3mconvodanaxx:3mmessage2222"
    assert delivered.url == "https://bsky.app/messages/3mconvodanaxx"
    # Chat messages carry no key: after a crash a person checks (the reply is uncertain).
    with pytest.raises(DeliveryError):
        BlueskyConnector().find_delivered(account, outgoing(visibility="private"))


def test_a_customer_who_takes_no_messages_from_us_fails_for_good_with_the_reason(
        account, httpserver):
    httpserver.expect_request(xrpc("chat.bsky.convo.getConvoForMembers")).respond_with_json(
        ERRORS["chat_refused"], status=400)
    with pytest.raises(DeliveryError, match="disabled incoming messages") as refused:
        BlueskyConnector().deliver(account, outgoing(visibility="private"))
    assert not refused.value.retryable


def test_a_platform_out_of_reach_is_retryable(db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    account = ChannelAccount(channel="bluesky", handle="kettleco.bsky.social",
                             config={"service": f"http://127.0.0.1:{port}"})
    account.set_secrets({"app_password": "abcd-efgh-ijkl-mnop"})
    with pytest.raises(ConnectorError, match="could not be reached") as failed:
        BlueskyConnector().check(account)
    assert failed.value.kind == ConnectorError.RETRYABLE


@pytest.mark.parametrize("config, secrets, kind, message", [
    ({"service": "bsky.social"}, {"app_password": "x"}, "permanent", "the PDS's URL"),
    ({}, {}, "reauthorise", "no app password"),
    ({"keywords": "kettle", "service": "http://127.0.0.1:9"}, {"app_password": "x"},
     "retryable", "could not be reached"),
    ({"backfill_hours": "lots"}, {"app_password": "x"}, "permanent", "backfill_hours"),
])
def test_bad_settings_are_met_with_a_clear_error(db, httpserver, config, secrets, kind,
                                                 message):
    httpserver.expect_request(xrpc("com.atproto.server.createSession")).respond_with_json(
        body("create_session"))
    account = ChannelAccount(channel="bluesky", handle="kettleco.bsky.social",
                             config={"service": httpserver.url_for("/"), **config})
    account.set_secrets(secrets)
    with pytest.raises(ConnectorError, match=message) as refused:
        BlueskyConnector().fetch(account, {}, 10)
    assert refused.value.kind == kind


def test_keyword_search_is_checkpointed_per_keyword(account, httpserver):
    pages(httpserver, {"notifications": []})
    httpserver.expect_request(xrpc("app.bsky.feed.searchPosts"),
                              query_string={"q": "kettleco", "sort": "latest", "limit": "50"}
                              ).respond_with_json(body("search_posts"))
    account.config.update(keywords=["kettleco"], backfill_hours=24 * 365 * 5)
    fetched = BlueskyConnector().fetch(account, {"search": {"gone": {"seen": "x"}}}, 50)
    assert [r.extra["reason"] for r in fetched.records] == ["search"]
    assert fetched.checkpoint["search"] == {"kettleco": {"seen": "2026-12-07T09:20:00.000Z"}}
