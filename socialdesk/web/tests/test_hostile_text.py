"""Post text, names and URLs are attacker-controlled: pages must render them inert."""

from django.urls import reverse

from conftest import post
from socialdesk.cases.models import Case

PAYLOADS = [
    "<script>alert('x')</script> my kettle is broken",
    '<img src=x onerror="alert(1)"> refund please',
    '"><svg/onload=alert(2)> still waiting',
    "<a href=\"javascript:alert(3)\">click</a> terrible service",
]


def test_hostile_post_text_is_escaped_in_the_inbox_and_the_case(client, feed, agent):
    feed(*[post(str(i), text, author=f"<b>evil{i}</b>", author_name="<script>x()</script>",
                url="https://x.example/\"><script>alert(9)</script>")
           for i, text in enumerate(PAYLOADS)])
    client.force_login(agent)
    pages = [client.get(reverse("web:inbox")).content.decode()]
    pages += [client.get(reverse("web:case", args=[c.pk])).content.decode()
              for c in Case.objects.all()]
    for html in pages:
        assert "<script>alert" not in html and "<script>x()" not in html
        assert "onerror=\"alert" not in html and "<svg/onload" not in html
        assert "href=\"javascript:" not in html
        assert "<b>evil" not in html
    case_html = "".join(pages[1:])
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in case_html
    assert 'rel="noopener noreferrer"' in case_html


def test_pages_forbid_inline_scripts(client, agent):
    client.force_login(agent)
    policy = client.get(reverse("web:inbox")).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
