"""A message's body as the text triage reads: HTML reduced to its words, and the
earlier messages a reply quotes cut off where that can be told reliably."""

import re
from html.parser import HTMLParser

# Elements whose content is never text a person wrote to us: code, styling, and
# what a mail client would not show.
_HIDDEN = {"script", "style", "head", "title", "template", "noscript", "iframe", "object",
           "embed", "svg", "math", "select", "textarea", "button"}
# Elements that end a line of text where they start or end.
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
          "blockquote", "pre", "hr", "ul", "ol", "dl", "dt", "dd", "section", "article",
          "header", "footer", "address", "center"}


class _Words(HTMLParser):
    """Collects character data outside hidden elements. html.parser only reads the
    string it is given: no resource is fetched, no script run, whatever the HTML says."""

    def __init__(self):
        super().__init__(convert_charrefs=True)  # entities decoded, once
        self.parts: list[str] = []
        self.hidden = 0  # depth inside hidden elements

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Words()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# "On Mon, 7 Dec 2026 at 09:12, Care <care@example.com> wrote:", which clients
# may wrap over two lines.
_ATTRIBUTION = re.compile(r"^\s*On\b.{0,300}?\bwrote:\s*$", re.IGNORECASE | re.DOTALL)
# Outlook quotes without ">": everything below its separator is the earlier message.
_OUTLOOK = re.compile(r"^\s*(-{3,}\s*Original Message\s*-{3,}|_{20,})\s*$", re.IGNORECASE)
_SIGNATURE = "-- "  # RFC 3676's separator; what follows is a signature


def strip_quotes(body: str) -> str:
    """The body without quoted earlier messages ("> " lines and the "On … wrote:"
    that introduces them, an Outlook original below its separator) and without a
    signature. Text written between quoted lines is kept; a body that is all quote
    is returned whole rather than emptied."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for number, line in enumerate(lines):
        if line == _SIGNATURE or _OUTLOOK.match(line) and _outlook_header(lines[number + 1:]):
            break
        if line.lstrip().startswith(">"):
            _drop_attribution(kept)
            continue
        kept.append(line)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return text or body.strip()


def _drop_attribution(kept: list[str]) -> None:
    """Remove the "On … wrote:" line (or two) just above a quote, if it is there."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    for start in (end - 1, end - 2):
        if start >= 0 and _ATTRIBUTION.match("\n".join(kept[start:end])):
            del kept[start:]
            return


def _outlook_header(rest: list[str]) -> bool:
    """Whether the lines after a separator begin a quoted message's header."""
    for line in rest[:3]:
        if line.strip():
            return bool(re.match(r"\s*\**(From|De|Von|Van|Da)\**\s*:", line, re.IGNORECASE))
    return False
