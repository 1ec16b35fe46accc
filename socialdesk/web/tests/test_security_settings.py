"""The deployment's security settings, as `manage.py check --deploy` and a browser see
them, and templates that the Content-Security-Policy lets work: no inline script,
no event-handler attributes, no inline styles."""

import json
import os
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse

# The only deploy-check warnings an https deployment keeps, each on purpose (see the
# comment above them in settings.py).
INTENDED = {
    "security.W008": "the TLS-terminating proxy redirects http to https, not the desk",
    "security.W021": "HSTS preload commits the whole domain: the owner opts in (HSTS_PRELOAD)",
}


def run_django(tmp_path, args: list[str], **env) -> subprocess.CompletedProcess:
    """A fresh process, so that settings.py reads this environment from scratch."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "SITE_URL", "ALLOWED_HOSTS",
                          "CSRF_TRUSTED_ORIGINS", "SECURE_COOKIES", "CELERY_BROKER_URL")}
    clean.update(DJANGO_SETTINGS_MODULE="socialdesk.settings",
                 SOCIALDESK_DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-m", "django", *args], env=clean,
                          capture_output=True, text=True, timeout=120)


def https_env() -> dict:
    return {"SITE_URL": "https://desk.example.com", "ALLOWED_HOSTS": "desk.example.com",
            "SECRET_KEY": secrets.token_urlsafe(50), "TRUSTED_PROXY_ADDRESSES": "127.0.0.1"}


def deploy_warnings(result: subprocess.CompletedProcess) -> set[str]:
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    return {word.strip("():") for word in output.split() if word.startswith("(security.")}


def test_an_https_deployment_passes_the_deploy_checks_but_for_the_intended(tmp_path):
    result = run_django(tmp_path, ["check", "--deploy"], **https_env())
    assert deploy_warnings(result) == set(INTENDED), result.stdout + result.stderr


def test_the_two_intended_warnings_go_when_the_operator_opts_in(tmp_path):
    result = run_django(tmp_path, ["check", "--deploy"], **https_env(),
                        SECURE_SSL_REDIRECT="true", HSTS_PRELOAD="true")
    assert deploy_warnings(result) == set(), result.stdout + result.stderr


SHOW = ("import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n, None) for n in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'CSRF_COOKIE_HTTPONLY', 'SESSION_EXPIRE_AT_BROWSER_CLOSE', 'SECURE_HSTS_SECONDS', "
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', 'CSRF_TRUSTED_ORIGINS', "
        "'LOGIN_FAILURES_PER_USER', 'LOGIN_FAILURES_PER_IP', 'LOGIN_FAILURE_WINDOW_MINUTES', "
        "'LOGIN_LOCKOUT_MINUTES', 'TRUSTED_PROXY_ADDRESSES')}))")


def settings_under(tmp_path, **env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "SECURE_COOKIES")}
    clean.update(DJANGO_SETTINGS_MODULE="socialdesk.settings",
                 SOCIALDESK_DATA_DIR=str(tmp_path), **env)
    result = subprocess.run([sys.executable, "-c", SHOW], env=clean, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_https_makes_cookies_secure_and_turns_on_hsts(tmp_path):
    s = settings_under(tmp_path, **https_env())
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_HTTPONLY"] and s["CSRF_COOKIE_HTTPONLY"]
    assert s["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is False
    assert s["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["TRUSTED_PROXY_ADDRESSES"] == ["127.0.0.1/32"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://desk.example.com"]


def test_plain_http_keeps_cookies_usable_and_sends_no_hsts(tmp_path):
    s = settings_under(tmp_path, SITE_URL="http://127.0.0.1:8000",
                       LOGIN_FAILURES_PER_USER="3", LOGIN_LOCKOUT_MINUTES="60")
    assert not s["SESSION_COOKIE_SECURE"] and not s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_HSTS_SECONDS"] == 0 and s["SECURE_PROXY_SSL_HEADER"] is None
    # The throttle's limits come from the environment too.
    assert (s["LOGIN_FAILURES_PER_USER"], s["LOGIN_LOCKOUT_MINUTES"]) == (3, 60)


def test_the_throttle_limits_default_to_five_twenty_and_fifteen_minutes():
    assert (settings.LOGIN_FAILURES_PER_USER, settings.LOGIN_FAILURES_PER_IP,
            settings.LOGIN_FAILURE_WINDOW_MINUTES, settings.LOGIN_LOCKOUT_MINUTES,
            settings.TRUSTED_PROXY_ADDRESSES) == (5, 20, 15, 15, [])


@pytest.mark.parametrize(("name", "value", "message"), [
    ("LOGIN_FAILURES_PER_USER", "0", "LOGIN_FAILURES_PER_USER must be 1 or more, not 0"),
    ("LOGIN_FAILURES_PER_IP", "many", "LOGIN_FAILURES_PER_IP must be an integer, not 'many'"),
    ("TRUSTED_PROXY_ADDRESSES", "10.0.0.1/8",
     "TRUSTED_PROXY_ADDRESSES: '10.0.0.1/8' is not an address or a network such as 10.0.0.0/24 "
     "(10.0.0.1/8 has host bits set)"),
    ("TRUSTED_PROXY_ADDRESSES", "127.0.0.1, proxy.internal",
     "TRUSTED_PROXY_ADDRESSES: 'proxy.internal' is not an address or a network"),
    # A count of proxies cannot tell one from a client that reaches the desk directly.
    ("TRUSTED_PROXIES", "1", "TRUSTED_PROXIES is no longer read: list the proxies' addresses "
                             "in TRUSTED_PROXY_ADDRESSES"),
])
def test_a_bad_throttle_setting_stops_the_start_with_its_name(tmp_path, name, value, message):
    result = run_django(tmp_path, ["check"], **{name: value})
    assert result.returncode != 0 and message in result.stderr


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PIPELINE_BATCH_SIZE", "0", "PIPELINE_BATCH_SIZE must be 1 to 100,000, not 0"),
    ("WORKER_BATCH_SIZE", "-1", "WORKER_BATCH_SIZE must be 0 to 100,000, not -1"),
    ("WORKER_BATCH_SIZE", "1e6", "WORKER_BATCH_SIZE must be an integer, not '1e6'"),
    ("WATCH_ACCOUNTS", "sometimes", "WATCH_ACCOUNTS must be true or false, not 'sometimes'"),
])
def test_a_bad_pipeline_setting_stops_the_start_with_its_name(tmp_path, name, value, message):
    result = run_django(tmp_path, ["check"], **{name: value})
    assert result.returncode != 0 and message in result.stderr


def test_passwords_are_checked_by_the_four_validators_with_ten_characters_at_least():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == ["UserAttributeSimilarityValidator", "MinimumLengthValidator",
                     "CommonPasswordValidator", "NumericPasswordValidator"]
    assert settings.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"]["min_length"] == 10


def test_pages_carry_a_policy_that_allows_no_inline_script(client, agent):
    client.force_login(agent)
    policy = client.get(reverse("account:tokens"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in policy and directives["frame-ancestors"] == "'none'"



def test_the_session_and_csrf_cookies_are_out_of_scripts_reach(client, agent):
    response = client.get(reverse("web:login"))
    assert response.cookies["csrftoken"]["httponly"]
    assert response.cookies["csrftoken"]["samesite"] == "Lax"
    response = client.post(reverse("web:login"), {"username": "alice",
                                                  "password": "a long test password 1"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------

class InlineCode(HTMLParser):
    """Collects what the policy would block: <script> without src (JSON data blocks
    aside), <style>, on* and hx-on attributes, style attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value for name, value in attrs}
        line = self.getpos()[0]
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(f"line {line}: inline <script>")
        if tag == "style":
            self.found.append(f"line {line}: <style> element")
        for name in names:
            if name.startswith(("on", "hx-on", "data-hx-on")) and name.isascii():
                self.found.append(f"line {line}: {name}= handler")
            if name == "style":
                self.found.append(f"line {line}: style= attribute")


def project_templates() -> list[Path]:
    package = Path(apps.get_app_config("web").path).parent
    found = []
    for config in apps.get_app_configs():
        folder = Path(config.path) / "templates"
        if Path(config.path).is_relative_to(package) and folder.is_dir():
            found += sorted(folder.rglob("*.html"))
    return found


def test_the_scan_finds_what_the_policy_would_block():
    parser = InlineCode()
    parser.feed('<p style="color: red" onclick="x()">a</p><script>alert(1)</script>'
                '<style>p {}</style><div hx-on:click="y()"></div>'
                '<script src="/static/a.js" defer></script>'
                '<script type="application/json" id="d">{}</script>')
    assert len(parser.found) == 5, parser.found


def test_no_template_has_inline_script_handlers_or_styles():
    templates = project_templates()
    assert any(p.match("*/accounts/templates/accounts/tokens.html") for p in templates)
    assert any(p.match("*/web/templates/web/base.html") for p in templates)
    problems = []
    for path in templates:
        parser = InlineCode()
        parser.feed(path.read_text())
        problems += [f"{path.relative_to(path.parents[3])}: {f}" for f in parser.found]
    assert not problems, "\n".join(problems)
