"""A local OAuth 2.0 authorization server for the e-mail connector's tests: the
token endpoint of RFC 6749 (the refresh_token and authorization_code grants, with
PKCE, RFC 7636), its error answers (section 5.2), and the token introspection
endpoint of RFC 7662 that Dovecot's oauth2 passdb asks about each access token.
The test SMTP server asks it too (servers.Collector.auth_XOAUTH2).
"""

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "socialdesk-test-app"
CLIENT_SECRET = "a test client secret"


class AuthorizationServer:
    def __init__(self):
        self.refresh_tokens: dict[str, str] = {}  # refresh token → mailbox address
        self.access_tokens: dict[str, tuple[str, float]] = {}  # → address, expiry
        self.codes: dict[str, tuple[str, str, str]] = {}  # code → address, redirect, challenge
        self.lifetime = 3600
        self.rotate = False  # each refresh answers with a new refresh token (Microsoft)
        self.unavailable = False  # the token endpoint answers 503
        self.token_requests: list[dict] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._http.server_address[1]}"
        self.token_url = f"{self.base}/token"
        self.authorize_url = f"{self.base}/authorize"
        self.introspection_url = f"{self.base}/introspect"

    def start(self) -> None:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def grant(self, address: str) -> str:
        """A refresh token for the mailbox, as signing in through the app gives."""
        token = f"refresh-{next(self._numbers)}-{secrets.token_hex(8)}"
        self.refresh_tokens[token] = address
        return token

    def revoke(self, address: str) -> None:
        """The mailbox's tokens stop working (a password change, an admin's revocation)."""
        with self._lock:
            for table in (self.refresh_tokens, self.access_tokens):
                for token, owner in list(table.items()):
                    if (owner if isinstance(owner, str) else owner[0]) == address:
                        del table[token]

    def owner(self, access_token: str) -> str | None:
        """The address an access token is valid for, if it is valid."""
        found = self.access_tokens.get(access_token)
        return found[0] if found and found[1] > time.time() else None

    # -- the endpoints ----------------------------------------------------------------

    def token(self, form: dict) -> tuple[int, dict]:
        self.token_requests.append(form)
        if self.unavailable:
            return 503, {"error": "temporarily_unavailable"}
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client",
                         "error_description": "Client authentication failed."}
        with self._lock:
            if form.get("grant_type") == "refresh_token":
                address = self.refresh_tokens.get(form.get("refresh_token", ""))
                if address is None:
                    return 400, {"error": "invalid_grant",
                                 "error_description": "The refresh token has expired or "
                                                      "been revoked."}
                answer = {}
                if self.rotate:
                    del self.refresh_tokens[form["refresh_token"]]
                    answer["refresh_token"] = self.grant(address)
            elif form.get("grant_type") == "authorization_code":
                address, redirect, challenge = self.codes.pop(form.get("code", ""),
                                                              (None, "", ""))
                verifier = form.get("code_verifier", "").encode()
                if address is None or form.get("redirect_uri") != redirect or challenge != \
                        base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(
                            b"=").decode():
                    return 400, {"error": "invalid_grant",
                                 "error_description": "The code is not valid."}
                answer = {"refresh_token": self.grant(address)}
            else:
                return 400, {"error": "unsupported_grant_type"}
            access = f"access-{next(self._numbers)}-{secrets.token_hex(8)}"
            self.access_tokens[access] = (address, time.time() + self.lifetime)
        return 200, {"access_token": access, "token_type": "Bearer",
                     "expires_in": self.lifetime, "scope": form.get("scope", ""), **answer}

    def introspect(self, form: dict) -> tuple[int, dict]:
        address = self.owner(form.get("token", ""))
        return 200, {"active": True, "username": address} if address else {"active": False}

    def authorize(self, query: dict, address: str) -> str:
        """Where the person's browser is sent once they have signed in as `address`
        and agreed: the redirect URI with a code (or the error)."""
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code" \
                or query.get("code_challenge_method") != "S256":
            return f"{redirect}?{urlencode({'error': 'invalid_request'})}"
        code = secrets.token_hex(8)
        self.codes[code] = (address, redirect, query.get("code_challenge", ""))
        return f"{redirect}?{urlencode({'code': code, 'state': query.get('state', '')})}"


def _handler(server: AuthorizationServer):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlsplit(self.path).path
            if path == "/token":
                status, body = server.token(form)
            elif path == "/introspect":
                status, body = server.introspect(form)
            else:
                status, body = 404, {"error": "not_found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler
