"""Which posts share a case: filing.py's rules as a function of the stored posts.

The grouping depends on what is stored, not on the order it was processed in:
a batch is grouped together with every processed post its posts bear on (see
filing.py for the rules and what they guarantee), and posts filed before are
moved where the rules now put them. In an import that runs in order nothing
bears on earlier posts, and the grouping costs a few reads per batch:

- the cases of the batch's parents;
- the processed replies to the batch's posts (none, in order), and theirs;
- the processed private messages, from the batch's time on, of the people
  whose conversations the batch opens or changes (none, in order);
- the cases of the people whose private messages need one.

Everything runs under the batch's filing lock (ingestion.actions.lock_filing):
what earlier filings decided is committed, and no other filing on the channel
changes it meanwhile.
"""

from bisect import insort
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import (
    PostRow,
    filing_state,
    processed_private_messages,
    processed_replies,
)
from socialdesk.triage.engine import TriageResult

INBOUND = Post.Direction.INBOUND
PRIVATE = Post.Visibility.PRIVATE
# Rounds of widening the posts looked at: real threads need one or two; the
# bound only stops pathological data from going on.
MAX_ROUNDS = 50

# The top of a post's thread: ("post", id) for the topmost inbound post of its
# thread among the posts looked at (the thread's head), ("case", id) for an
# existing case its thread continues, None when no inbound post is above it.
Top = tuple[str, int]


@dataclass(slots=True)
class CaseRow:
    id: int
    opened_at: datetime
    contact_id: int
    channel: str
    status: str

    @property
    def is_open(self) -> bool:
        return self.status in Case.OPEN_STATUSES


@dataclass(eq=False)
class Group:
    """Posts that share a case, and which case that is: an existing one
    (`case_id`), a new one opened by a post of the batch (`opener`), or, when no
    post of the batch can open it, a new one like an existing case (`split_from`)."""

    members: list[PostRow] = field(default_factory=list)
    case_id: int | None = None
    opener: PostRow | None = None
    split_from: int | None = None
    # Existing cases whose posts all belong here now (their opening post does):
    # emptied, they are closed as merged into this group's case.
    merged: list[int] = field(default_factory=list)

    def earliest(self) -> PostRow | None:
        inbound = [p for p in self.members if p.direction == INBOUND]
        return min(inbound, key=_order) if inbound else None


@dataclass
class Plan:
    groups: list[Group]
    # Post id → its group; posts in no case (outbound, no inbound post above) are absent.
    target: dict[int, Group]
    # Every post looked at: the batch and the processed posts it bears on.
    posts: dict[int, PostRow]
    # Posts outside the batch whose parent was linked here (written with the moves).
    relinked: set[int]


def _order(post: PostRow) -> tuple:
    return post.created_at, post.id


@dataclass(slots=True)
class _Opening:
    """A conversation a private message may join: (time, ref) orders them."""

    at: datetime
    ref: Top
    open: bool
    cases: frozenset[int]


class _Sets:
    """Union-find over tops."""

    def __init__(self):
        self.parent: dict[Top, Top] = {}

    def find(self, key: Top) -> Top:
        root = key
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while key != root:
            self.parent[key], key = root, self.parent.get(key, key)
        return root

    def keys(self) -> set[Top]:
        return set(self.parent) | set(self.parent.values())

    def union(self, a: Top, b: Top) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def plan_cases(batch: list[PostRow], triages: dict[int, TriageResult]) -> Plan:
    """Group the batch with the processed posts it bears on; see the module docstring."""
    return _Grouper(batch, triages).plan()


class _Grouper:
    def __init__(self, batch: list[PostRow], triages: dict[int, TriageResult]):
        self.batch = {p.id for p in batch}
        self.posts: dict[int, PostRow] = {p.id: p for p in batch}
        self.triages = triages
        # Parents outside the posts looked at: id → (case id, processed).
        self.outside: dict[int, tuple[int | None, bool]] = {}
        self.relinked: set[int] = set()
        self.cases: dict[int, CaseRow] = {}

    # Loading

    def _load_outside_parents(self, posts) -> None:
        wanted = {p.parent_id for p in posts
                  if p.parent_id and p.parent_id not in self.posts} - self.outside.keys()
        if wanted:
            self.outside.update(filing_state(wanted))

    def _expand(self, frontier: list[PostRow]) -> None:
        """Add the processed replies to `frontier`, and theirs, level by level."""
        seen = set()
        while frontier:
            by_key = {(p.channel, p.external_id): p.id for p in frontier}
            seen.update(p.id for p in frontier)
            found = processed_replies(by_key, set(self.posts))
            for reply in found:
                parent = by_key[(reply.channel, reply.in_reply_to)]
                if reply.parent_id is None and parent != reply.id:
                    reply.parent_id = parent
                    self.relinked.add(reply.id)
                self.posts[reply.id] = reply
            frontier = [p for p in found if p.id not in seen]

    def _load_cases(self, tops: dict[int, Top | None]) -> None:
        wanted = ({p.case_id for p in self.posts.values() if p.case_id}
                  | {t[1] for t in tops.values() if t is not None and t[0] == "case"}
                  ) - self.cases.keys()
        if wanted:
            for row in Case.objects.filter(id__in=wanted).values_list(
                    "id", "opened_at", "contact_id", "channel", "status"):
                self.cases[row[0]] = CaseRow(*row)

    def _load_private(self, tops: dict[int, Top | None]) -> list[PostRow]:
        """The processed private messages whose conversation the posts looked at may
        change: those of the people whose cases open or change, from then on."""
        since: dict[tuple[int, str], datetime] = {}

        def note(contact_id, channel, at):
            key = (contact_id, channel)
            if key not in since or at < since[key]:
                since[key] = at

        for group in self._thread_members(tops).values():
            first = min((p for p in group if p.direction == INBOUND), key=_order, default=None)
            if first is not None:
                note(first.contact_id, first.channel, first.created_at)
        for case_id in self._anchored(tops):
            case = self.cases[case_id]
            note(case.contact_id, case.channel, case.opened_at)
        for case_id, first in self._rekeyed(tops).items():
            case = self.cases[case_id]
            note(case.contact_id, case.channel, case.opened_at)
            note(first.contact_id, first.channel, first.created_at)
        if not since:
            return []
        rows = processed_private_messages({c for c, _ in since}, {ch for _, ch in since},
                                          min(since.values()), set(self.posts))
        rows = [r for r in rows if (r.contact_id, r.channel) in since
                and r.created_at >= since[(r.contact_id, r.channel)]]
        self._load_outside_parents(rows)
        # Only those that begin a thread: a reply in a case follows its parent.
        found = [r for r in rows if r.parent_id is None or r.parent_id in self.posts
                 or self.outside.get(r.parent_id, (None, False))[0] is None]
        for r in found:
            self.posts[r.id] = r
        return found

    def _load(self) -> dict[int, Top | None]:
        self._load_outside_parents(self.posts.values())
        frontier = list(self.posts.values())
        for _ in range(MAX_ROUNDS):
            self._expand(frontier)
            tops = self._tops()
            self._load_cases(tops)
            frontier = self._load_private(tops)
            if not frontier:
                return tops
        tops = self._tops()
        self._load_cases(tops)
        return tops

    # Threads

    def _tops(self) -> dict[int, Top | None]:
        tops: dict[int, Top | None] = {}
        for start in self.posts:
            if start in tops:
                continue
            path, on_path, node = [], set(), start
            while True:
                if node in tops:
                    top = tops[node]
                    break
                path.append(node)
                on_path.add(node)
                parent = self.posts[node].parent_id
                if parent is not None and parent in self.posts and parent not in on_path:
                    node = parent
                    continue
                top = self._top_outside(self.posts[node])
                break
            for node in reversed(path):
                post = self.posts[node]
                if top is None and post.direction == INBOUND:
                    top = ("post", node)
                tops[node] = top
        return tops

    def _top_outside(self, post: PostRow) -> Top | None:
        """Where a thread goes above the posts looked at: the parent's case, if any.
        A processed parent in no case heads a thread of our own posts only; an
        unprocessed one will be filed later, and bring this thread along then."""
        if post.parent_id is None or post.parent_id in self.posts:
            return None
        case_id = self.outside.get(post.parent_id, (None, False))[0]
        return ("case", case_id) if case_id else None

    def _thread_members(self, tops) -> dict[Top, list[PostRow]]:
        members: dict[Top, list[PostRow]] = defaultdict(list)
        for post_id, top in tops.items():
            if top is not None and top[0] == "post":
                members[top].append(self.posts[post_id])
        return members

    def _rekeyed(self, tops) -> dict[int, PostRow]:
        """Existing cases that a post looked at, earlier than their first, joins (a
        reply older than its parent) → that post, which they begin with now."""
        found: dict[int, PostRow] = {}
        for post_id, top in tops.items():
            post = self.posts[post_id]
            if top is None or top[0] != "case" or post.direction != INBOUND:
                continue
            case = self.cases.get(top[1])
            first = found.get(top[1])
            if case is not None and post.created_at < case.opened_at and (
                    first is None or _order(post) < _order(first)):
                found[top[1]] = post
        return found

    def _anchors(self) -> dict[int, int]:
        """Existing case → the post looked at that opens it (its earliest inbound post)."""
        anchors: dict[int, int] = {}
        for post in self.posts.values():
            case = self.cases.get(post.case_id) if post.case_id else None
            if (case is not None and post.direction == INBOUND
                    and post.created_at == case.opened_at
                    and (post.case_id not in anchors or post.id < anchors[post.case_id])):
                anchors[post.case_id] = post.id
        return anchors

    def _anchored(self, tops) -> dict[int, Top]:
        """Existing cases whose opening post is looked at → that post's thread top:
        where they go depends on this grouping (unless the thread stays in them)."""
        return {case_id: tops[post_id] for case_id, post_id in self._anchors().items()
                if tops.get(post_id) is not None and tops[post_id] != ("case", case_id)}

    # Grouping

    def plan(self) -> Plan:
        tops = self._load()
        anchored = self._anchored(tops)
        members = self._thread_members(tops)
        owned: dict[Top, set[int]] = defaultdict(set)
        for case_id, top in anchored.items():
            owned[top].add(case_id)
        sets = _Sets()
        self._attach_private(sets, members, owned, anchored, self._rekeyed(tops))

        classes: dict[Top, set[Top]] = defaultdict(set)
        for key in {t for t in tops.values() if t is not None} | set(owned) | sets.keys():
            classes[sets.find(key)].add(key)
        by_top: dict[Top, list[PostRow]] = defaultdict(list)
        for post_id, top in tops.items():
            if top is not None:
                by_top[top].append(self.posts[post_id])
        groups, target = [], {}
        for keys in classes.values():
            group = Group(members=sorted((p for k in keys for p in by_top.get(k, ())), key=_order))
            if not group.members:
                continue
            # At most one: a thread reaches one existing case, and a private
            # message joins one conversation.
            fixed = sorted((k[1] for k in keys if k[0] == "case"), key=self._case_order)
            mine = sorted({c for k in keys for c in owned.get(k, ())}, key=self._case_order)
            if fixed:
                group.case_id = fixed[0]
                group.merged = [c for c in mine if c != group.case_id]
            elif mine:
                group.case_id, group.merged = mine[0], mine[1:]
            else:
                self._new_case(group)
            groups.append(group)
            for post in group.members:
                target[post.id] = group
        return Plan(groups, target, self.posts, self.relinked)

    def _case_order(self, case_id: int) -> tuple:
        """The case opened first is kept when several come together."""
        case = self.cases.get(case_id)
        return (case is None, case.opened_at if case else None, case_id)

    def _new_case(self, group: Group) -> None:
        """A group with no case of its own: opened by its earliest post of the batch
        that was triaged, else like the case its earliest post was in."""
        triaged = [p for p in group.members if p.id in self.triages]
        if triaged:
            group.opener = triaged[0]
            return
        placed = [p for p in group.members if p.case_id]
        inbound = [p for p in placed if p.direction == INBOUND]
        if inbound or placed:
            group.split_from = (inbound or placed)[0].case_id

    def _is_open(self, top: Top, owned: set[int], members: list[PostRow]) -> bool:
        """Whether a conversation takes private messages: its case is open, or,
        not opened yet, will be (the opener is not hidden)."""
        if owned:
            return any(self.cases[c].is_open for c in owned)
        triaged = [p for p in sorted(members, key=_order) if p.id in self.triages]
        if triaged:
            return self.triages[triaged[0].id].outcome.decision != "hide"
        placed = [self.cases.get(p.case_id) for p in members if p.case_id]
        return any(c.is_open for c in placed if c is not None)

    def _attach_private(self, sets: _Sets, members, owned, anchored, rekeyed) -> None:
        """A private message that begins a thread joins the latest conversation of
        its author on the channel begun at or before it, if that is open (a message
        already in a closed one stays there); the first with none begins one."""
        dms = {top for top in members if self.posts[top[1]].visibility == PRIVATE}
        if not dms:
            return
        keys = {(self.posts[t[1]].contact_id, self.posts[t[1]].channel) for t in dms}
        openings: dict[tuple[int, str], list[_Opening]] = defaultdict(list)
        for case_id, opened_at, contact_id, channel, status in Case.objects.filter(
                contact_id__in={c for c, _ in keys}, channel__in={ch for _, ch in keys}
        ).values_list("id", "opened_at", "contact_id", "channel", "status"):
            if (contact_id, channel) in keys and case_id not in anchored | rekeyed.keys():
                row = self.cases.setdefault(case_id, CaseRow(case_id, opened_at, contact_id,
                                                             channel, status))
                openings[(contact_id, channel)].append(
                    _Opening(opened_at, ("case", case_id), row.is_open, frozenset([case_id])))
        for case_id, first in rekeyed.items():
            if (first.contact_id, first.channel) in keys:
                openings[(first.contact_id, first.channel)].append(_Opening(
                    first.created_at, ("case", case_id), self.cases[case_id].is_open,
                    frozenset([case_id])))
        for top, group in members.items():
            if top in dms:
                continue
            first = min((p for p in group if p.direction == INBOUND), key=_order)
            key = (first.contact_id, first.channel)
            if key in keys:
                openings[key].append(_Opening(first.created_at, top,
                                              self._is_open(top, owned.get(top, set()), group),
                                              frozenset(owned.get(top, ()))))
        for found in openings.values():
            found.sort(key=lambda o: (o.at, o.ref))
        for top in sorted(dms, key=lambda t: _order(self.posts[t[1]])):
            message = self.posts[top[1]]
            found = openings[(message.contact_id, message.channel)]
            joined = next((o for o in reversed(found) if o.at <= message.created_at
                           and (o.open or message.case_id in o.cases)), None)
            if joined is not None:
                sets.union(top, joined.ref)
                continue
            mine = owned.get(top, set())
            insort(found, _Opening(message.created_at, top,
                                   self._is_open(top, mine, members[top]), frozenset(mine)),
                   key=lambda o: (o.at, o.ref))
