"""A status' HTML read as plain text, safely; and what a reply says and who sees it."""

import pytest

from socialdesk.connectors.mastodon.statuses import html_to_text, reply_text, reply_visibility


@pytest.mark.parametrize("html, text", [
    ("<p>one<br>two<br/>three</p><p>next paragraph</p>", "one\ntwo\nthree\n\nnext paragraph"),
    ("<p>fish &amp; chips &lt;3 &#x1F375; &quot;hot&quot;</p>", 'fish & chips <3 \U0001F375 "hot"'),
    # Mastodon shortens the links it shows; the text keeps the whole address.
    ('<p><a href="https://kettle.example/a/very/long/path"><span class="invisible">https://'
     '</span><span class="ellipsis">kettle.example/a/very/lo</span><span class="invisible">'
     'ng/path</span></a></p>', "https://kettle.example/a/very/long/path"),
    ("<p>spread\n   over\tlines</p>", "spread over lines"),
])
def test_status_html_becomes_the_text_a_reader_sees(html, text):
    assert html_to_text(html) == text


@pytest.mark.parametrize("html, text", [
    ("<p>hi<script>alert('x')</script> there</p>", "hi there"),
    ("<style>p {color: red}</style><p>styled</p>", "styled"),
    ("<p>open <b>bold <i>and never closed", "open bold and never closed"),
    ("<p>nul&#0;and&#xD800;surrogate</p>", "nul\ufffdand\ufffdsurrogate"),
    ("<p>raw\x00nul and lone \ud800 half</p>", "rawnul and lone half"),
    ("<img src=x onerror=alert(1)><p>after the image</p>", "after the image"),
    ("<p>a</p>" + "<div>" * 5000 + "deep" + "</div>" * 5000, "a\n\ndeep"),
    ("<![CDATA[x]]><!-- a comment --><p>&unknown; &amp</p>", "&unknown; &"),
    ("<script>never closed <p>hidden", ""),
])
def test_hostile_html_leaves_only_safe_text(html, text):
    assert html_to_text(html) == text


def test_a_reply_mentions_the_author_and_the_others_but_not_the_brand():
    context = {"mentions": ["care@example.social", "erin@example.social", "sam@far.example"],
               "mastodon_visibility": "public"}
    said = reply_text("We're on it.", "dana@other.example", "public", context,
                      "care@example.social", "example.social")
    assert said == "@dana@other.example @erin@example.social @sam@far.example We're on it."


def test_people_already_named_in_the_reply_are_not_named_twice():
    context = {"mentions": ["erin@example.social"], "mastodon_visibility": "public"}
    said = reply_text("Hi @Dana@other.example and @erin, we're on it.", "dana@other.example",
                      "public", context, "care@example.social", "example.social")
    assert said == "Hi @Dana@other.example and @erin, we're on it."
    # "@dana" alone names a local account, not the remote author; an address is not
    # a mention either.
    said = reply_text("dana@other.example: hi @dana.", "dana@other.example", "public", {},
                      "care@example.social", "example.social")
    assert said.startswith("@dana@other.example ")


def test_handles_that_are_not_handles_are_left_out():
    context = {"mentions": ["two words@x.example", 42, "<b>@x</b>"],
               "mastodon_visibility": "public"}
    said = reply_text("Hi.", "dana@other.example", "public", context, "care@example.social",
                      "example.social")
    assert said == "@dana@other.example Hi."


@pytest.mark.parametrize("visibility, original, sent", [
    ("public", "public", "public"),
    ("public", "unlisted", "unlisted"),
    ("public", "private", "direct"),  # followers-only
    ("public", "direct", "direct"),
    ("public", "limited", "direct"),
    ("public", None, "unlisted"),  # never seen: an import
    ("private", "public", "direct"),
    ("private", None, "direct"),
])
def test_a_reply_is_never_seen_more_widely_than_what_it_answers(visibility, original, sent):
    context = {} if original is None else {"mastodon_visibility": original}
    assert reply_visibility(visibility, context) == sent
