"""lib.lookups: `in` with plain integers skips Django's per-value preparation and
selects what Django's own `in` selects; every other value takes Django's way."""

import pytest
from django.db.models.lookups import In

from socialdesk.contacts.models import Contact, Identity
from socialdesk.lib.lookups import IntegerIn, RelatedIntegerIn


@pytest.fixture
def people(db):
    contacts = [Contact.objects.create(name=f"person {i}") for i in range(4)]
    for i, contact in enumerate(contacts):
        Identity.objects.create(channel="x", handle=f"p{i}", contact=contact)
    return contacts


def lookup_of(queryset):
    return type(queryset.query.where.children[0])


def test_integer_and_key_lists_take_the_direct_way(people):
    ids = [people[0].pk, people[2].pk]
    assert lookup_of(Contact.objects.filter(id__in=ids)) is IntegerIn
    assert Contact.objects.filter(id__in=[]).count() == 0
    assert lookup_of(Identity.objects.filter(contact_id__in=ids)) is RelatedIntegerIn
    assert set(Contact.objects.filter(id__in=ids).values_list("id", flat=True)) == set(ids)
    assert set(Identity.objects.filter(contact__in=ids).values_list("contact_id", flat=True)) \
        == set(ids)
    # Through a join, from a set, with a value nothing has.
    found = Identity.objects.filter(contact__id__in={people[1].pk, 10**9})
    assert [i.handle for i in found] == ["p1"]


def test_the_same_rows_as_djangos_own_in(people):
    ids = [p.pk for p in people[1:]] + [people[1].pk, 2**62]
    query = Contact.objects.filter(id__in=ids).order_by("id")
    sql, params = query.query.sql_with_params()
    assert len(params) == 1 and all(str(i) in params[0] for i in ids)

    plain = Contact.objects.all().order_by("id")
    plain.query.where.add(In(plain.query.resolve_ref("id"), ids), "AND")
    assert list(query) == list(plain) == people[1:]


def test_other_values_are_prepared_as_django_prepares_them(people):
    first = people[0]
    # Model instances, digit strings and None (never equal to anything).
    assert list(Identity.objects.filter(contact__in=[first, None])) == \
        list(Identity.objects.filter(contact=first))
    assert list(Contact.objects.filter(id__in=[str(first.pk)])) == [first]
    # Subqueries.
    assert set(Contact.objects.filter(id__in=Identity.objects.values("contact_id"))) == \
        set(people)
    # True is an int too, but not a plain one: Django turns it into 1 first.
    assert list(Contact.objects.filter(id__in=[True])) == list(Contact.objects.filter(id=1))
    with pytest.raises(ValueError):
        list(Contact.objects.filter(id__in=["not a number"]))


def test_an_empty_list_selects_nothing(people):
    assert list(Contact.objects.filter(id__in=[])) == []
    assert Identity.objects.exclude(contact_id__in=[]).count() == len(people)
