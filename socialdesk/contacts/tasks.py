from celery import shared_task

from socialdesk.contacts.tags import do_refresh_tags


@shared_task(name="contacts.refresh_tags", ignore_result=True)
def refresh_tags() -> int:
    """Every contact's computed tags, so that tags of activity older than the window lapse.
    Daily is enough: the window is 90 days."""
    return do_refresh_tags()
