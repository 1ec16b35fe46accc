"""The HTTP seam against a real (local) receiver: status codes come back as they
are, redirects are not followed, and no answer is a WebhookNetworkError."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from socialdesk.notifications.actions import do_queue_webhooks
from socialdesk.notifications.models import WebhookDelivery, WebhookEndpoint
from socialdesk.notifications.signing import verify_signature
from socialdesk.notifications.transport import WebhookNetworkError, post_json

SECRET = "the-receivers-shared-secret"


class Handler(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        if self.path == "/slow":
            time.sleep(1)
        if self.path == "/moved":
            self.send_response(307)
            self.send_header("Location", "/ok")
        elif self.path == "/verify":
            ok = verify_signature(SECRET, self.headers["X-Socialdesk-Signature"], body)
            self.send_response(204 if ok else 401)
        else:
            self.send_response({"/ok": 204, "/boom": 500, "/nope": 404}.get(self.path, 200))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def send(url, body=b"{}"):
    return post_json(url, body, {"Content-Type": "application/json"}, timeout=0.5)


def test_the_status_code_comes_back_whatever_it_is(server):
    assert send(server + "/ok") == 204
    assert send(server + "/boom") == 500
    assert send(server + "/nope") == 404
    path, headers, body = Handler.received[0]
    assert (path, body, headers["Content-Type"]) == ("/ok", b"{}", "application/json")


def test_a_redirect_is_answered_not_followed(server):
    assert send(server + "/moved") == 307
    assert [path for path, _, _ in Handler.received] == ["/moved"]


def test_a_refused_connection_is_a_network_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WebhookNetworkError):
        send(f"http://127.0.0.1:{port}/")


def test_a_receiver_that_does_not_answer_in_time_is_a_network_error(server):
    with pytest.raises(WebhookNetworkError):
        send(server + "/slow")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "hooks.example"])
def test_only_http_urls_are_called(url):
    with pytest.raises(ValueError):
        send(url)


def test_a_receiver_verifies_what_the_desk_sends(server, db, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="receiver", url=server + "/verify", secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        do_queue_webhooks("case.escalated", {"event": "case.escalated", "text": "naïve ☕"})
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
