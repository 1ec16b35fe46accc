"""Full-text search over cases: their posts' text, their authors' handles and names,
and case refs.

What a person types is parsed here, never handed to the database's own query
syntax: every term reaches FTS5 or websearch_to_tsquery as a quoted phrase, so
quotes, brackets, stars, colons or a stray NEAR cannot make a query fail. The
syntax is the one people know from web search: words (all must match),
"a phrase", -word to leave out, OR between alternatives.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from socialdesk.search.index import (
    IDENTITY_FTS,
    PG_IDENTITY_VECTOR,
    PG_POST_VECTOR,
    POST_FTS,
)

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
# Letters and digits make a word, as the index's tokenizer sees it.
_WORD = re.compile(r"[^\W_]", re.UNICODE)
_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# "C-000123", "c-123", "#123": a case ref.
_REF = re.compile(r"^(?:c-?|#)([0-9]{1,12})$", re.IGNORECASE)
_NUMBER = re.compile(r"^([0-9]{1,12})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SearchError(ValueError):
    """A search the desk cannot run, with a message for the person who typed it."""


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    # Alternatives (OR) of groups of terms that must all match (AND).
    groups: tuple[tuple[Term, ...], ...]
    case_id: int | None = None


def parse(query: str) -> ParsedQuery:
    # Control characters carry no words, and a NUL would end FTS5's string early.
    query = _CONTROL.sub(" ", query or "").strip()
    if not query:
        raise SearchError("Type a word, a phrase in quotes or a case ref to search for.")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"A search has at most {MAX_QUERY_CHARS} characters.")
    ref = _REF.match(query) or _NUMBER.match(query)
    case_id = int(ref.group(1)) if ref else None
    groups: list[list[Term]] = [[]]
    count = 0
    for match in _CHUNK.finditer(query):
        minus, phrase, word = match.groups()
        if word is not None:
            if word.upper() == "OR" and groups[-1]:
                groups.append([])
                continue
            minus, text = ("-", word[1:]) if word.startswith("-") else ("", word)
        else:
            text = phrase
        if not _WORD.search(text):
            continue  # punctuation alone: nothing the index could hold
        count += 1
        groups[-1].append(Term(text.replace('"', " ").strip(), negated=bool(minus)))
    if count > MAX_TERMS:
        raise SearchError(f"A search has at most {MAX_TERMS} words or phrases.")
    groups_kept = tuple(tuple(g) for g in groups if g)
    if not groups_kept and case_id is None:
        raise SearchError("Nothing to search for: use letters or digits, not only "
                          "punctuation.")
    if any(all(t.negated for t in g) for g in groups_kept):
        raise SearchError("Say what to look for, not only what to leave out "
                          "(-word leaves a word out).")
    return ParsedQuery(groups_kept, case_id)


def fts5_expression(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression: every term a quoted string, so FTS5 reads no operator
    from the person's text."""
    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"'

    alternatives = []
    for group in parsed.groups:
        wanted = " AND ".join(quoted(t) for t in group if not t.negated)
        unwanted = [quoted(t) for t in group if t.negated]
        expr = f"({wanted})" + "".join(f" NOT {u}" for u in unwanted)
        alternatives.append(f"({expr})")
    return " OR ".join(alternatives)


def websearch_expression(parsed: ParsedQuery) -> str:
    """The same search for websearch_to_tsquery: quoted phrases, -phrase, or."""
    return " or ".join(
        " ".join(("-" if t.negated else "") + '"' + t.text + '"' for t in group)
        for group in parsed.groups)


# The case ids of posts that match by text or by author, as one SQL subquery of its
# own: the planner starts from the index and joins the few cases found (the
# alternative it takes for "IN (a) OR IN (b)" walks every case and probes both),
# no alias of the outer query can reach into it, and the indexed expressions stay
# verbatim.
MATCHES_SQL = {
    "postgresql": f"SELECT case_id FROM ingestion_post WHERE case_id IS NOT NULL AND "
                  f"{PG_POST_VECTOR} @@ websearch_to_tsquery('simple'::regconfig, %s) "
                  f"UNION SELECT case_id FROM ingestion_post WHERE case_id IS NOT NULL AND "
                  f"author_id IN (SELECT id FROM contacts_identity WHERE {PG_IDENTITY_VECTOR} "
                  f"@@ websearch_to_tsquery('simple'::regconfig, %s))",
    "sqlite": f"SELECT case_id FROM ingestion_post WHERE case_id IS NOT NULL AND id IN "
              f"(SELECT rowid FROM {POST_FTS} WHERE {POST_FTS} MATCH %s) "
              f"UNION SELECT case_id FROM ingestion_post WHERE case_id IS NOT NULL AND "
              f"author_id IN (SELECT rowid FROM {IDENTITY_FTS} WHERE {IDENTITY_FTS} MATCH %s)",
}


def search_filter(query: str) -> Q:
    """A filter on cases: a post of the case matches the text, or its author's handle or
    name does, or the query is the case's ref. SearchError for a query that cannot run."""
    parsed = parse(query)
    sql, params = [], []
    if parsed.groups:
        vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
        expression = (websearch_expression(parsed) if vendor == "postgresql"
                      else fts5_expression(parsed))
        sql.append(MATCHES_SQL[vendor])
        params += [expression, expression]
    if parsed.case_id is not None:
        sql.append("SELECT %s")
        params.append(parsed.case_id)
    return Q(pk__in=RawSQL(" UNION ".join(sql), params))


def matching_case_ids(query: str) -> QuerySet:
    """The ids of every case the query finds (any case, visible or not: callers narrow
    to what the user may see)."""
    from socialdesk.cases.models import Case

    return Case.objects.filter(search_filter(query)).values_list("pk", flat=True)
