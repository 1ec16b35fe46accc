import os
from pathlib import Path

import pytest
from django.core.management import call_command

from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post

SAMPLE = Path(__file__).resolve().parents[3].parent / "shared/data" / \
    "twcs-customer-support-on-twitter" / "sample.csv"


@pytest.fixture
def twcs_sample():
    if not SAMPLE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SAMPLE} is missing; CI always has ../shared")
        pytest.skip(f"the twcs sample is not here ({SAMPLE}); it lives in ../shared/data")
    return SAMPLE


def test_the_twcs_layout_imports_with_threads(db, teams, twcs_sample):
    call_command("import_posts", str(twcs_sample), "--format", "twcs", "--quiet")
    assert Post.objects.count() == 93
    assert Post.objects.filter(direction="inbound").count() == 49
    reply = Post.objects.get(external_id="119241")
    assert reply.parent.external_id == "119240"
    assert reply.case == reply.parent.case
    assert Case.objects.filter(first_response_at__isnull=False).exists()
