"""A case to point at, webhook endpoints, and a fake receiver behind the HTTP seam."""

from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from socialdesk.cases.models import Case
from socialdesk.contacts.models import Contact
from socialdesk.notifications import transport
from socialdesk.notifications.models import WebhookEndpoint

SECRET = "a-webhook-secret-for-tests"


@pytest.fixture
def case(teams):
    now = timezone.now()
    return Case.objects.create(
        priority="P1", decision="respond", category="complaint", channel="x",
        contact=Contact.objects.create(name="Carol"), team=teams["care"],
        subject="The kettle stopped working", opened_at=now, last_inbound_at=now)


@pytest.fixture
def endpoint(db):
    def make(events=(), name="ops", secret=SECRET, **extra):
        return WebhookEndpoint.objects.create(name=name, url=f"https://hooks.example/{name}",
                                              secret=secret, events=list(events), **extra)

    return make


@dataclass
class Receiver:
    """Answers each call with the next of `answers` (a status code, or an
    exception to raise), then 204; records what it was sent."""

    answers: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    during_call: object = None

    def post_json(self, url, body, headers, timeout):
        self.calls.append({"url": url, "body": body, "headers": headers, "timeout": timeout})
        if self.during_call:
            self.during_call()
        answer = self.answers.pop(0) if self.answers else 204
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def receiver(monkeypatch):
    fake = Receiver()
    monkeypatch.setattr(transport, "post_json", fake.post_json)
    return fake
