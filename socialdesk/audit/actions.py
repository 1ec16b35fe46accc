from django.utils import timezone

from socialdesk.audit.models import Event


def do_record(verb: str, *, case=None, actor=None, at=None, **data) -> Event:
    return Event.objects.create(at=at or timezone.now(), verb=verb, case=case, actor=actor,
                                data=data)


def do_record_many(events: list[Event]) -> None:
    now = timezone.now()
    for event in events:
        event.at = event.at or now
    Event.objects.bulk_create(events, batch_size=500)
