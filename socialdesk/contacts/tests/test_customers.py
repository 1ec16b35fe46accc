"""`socialdesk contacts import customers.csv`: the customer database becomes contacts."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.contacts.customers import CustomerImportError, do_import_customers, read_customers
from socialdesk.contacts.merging import do_unmerge
from socialdesk.contacts.models import Contact, Identity, Merge, MergeSuggestion
from socialdesk.contacts.tests.helpers import contact_of

HEADER = "id,name,email,handles,tier,account_owner\n"


def rows(text: str):
    return read_customers((HEADER + text).encode())


def run(path, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("contacts", "import", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_customers_become_contacts_matched_by_handle_and_email(feed, agent, teammate):
    feed(post("1", "my kettle broke", author="kettlefan"),
         post("2", "where is my parcel", channel="email", author="dan-mail",
              author_email="dan@example.com"))
    fan_case = contact_of("kettlefan").cases.get()
    result = do_import_customers(rows(
        "C-1,Carol Jones,carol@example.com,x:@kettlefan;instagram:kettle.fan,vip,alice\n"
        "C-2,Dan Brown,DAN@example.com,,,\n"
        "C-3,Erin Lee,,bluesky:erin.bsky.social,customer,bob\n"), actor=agent)

    assert (result.created, result.updated, result.identities_created) == (1, 2, 2)
    carol = Contact.objects.get(customer_id="C-1")
    assert carol.pk == fan_case.contact_id  # her existing contact, with its case
    assert (carol.name, carol.email, carol.tier, carol.account_owner) == (
        "Carol Jones", "carol@example.com", "vip", agent)
    assert sorted(carol.identities.values_list("channel", "handle")) == [
        ("instagram", "kettle.fan"), ("x", "kettlefan")]
    assert "vip" in carol.tags
    dan = Contact.objects.get(customer_id="C-2")
    assert dan == contact_of("dan-mail", "email") and dan.tier == "customer"
    erin = Contact.objects.get(customer_id="C-3")
    assert erin.identities.get().handle == "erin.bsky.social" and erin.account_owner == teammate
    event = Event.objects.get(verb="contacts.imported")
    assert event.actor == agent and event.data["created"] == 1


def test_a_second_import_updates_by_customer_id_and_leaves_empty_cells_alone(db, agent):
    do_import_customers(rows("C-1,Carol Jones,carol@example.com,x:kettlefan,customer,alice\n"))
    result = do_import_customers(rows("C-1,,,x:kettlefan,vip,\nC-1b,Bo,,,,\n"))
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    carol = Contact.objects.get(customer_id="C-1")
    assert (carol.name, carol.email, carol.tier, carol.account_owner) == (
        "Carol Jones", "carol@example.com", "vip", agent)
    again = do_import_customers(rows("C-1,,,x:kettlefan,vip,\n"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_a_customers_handles_on_two_contacts_are_merged_and_can_be_unmerged(feed, agent):
    feed(post("1", "hello", author="kettlefan"),
         post("2", "hi", channel="instagram", author="kettle.fan"))
    result = do_import_customers(rows("C-1,Carol,,x:kettlefan;instagram:kettle.fan,,\n"),
                                 actor=agent)
    assert result.merged == 1
    carol = Contact.objects.get(customer_id="C-1")
    assert carol.identities.count() == 2 and carol.cases.count() == 2
    do_unmerge(Merge.objects.get(), agent)
    assert carol.identities.count() == 1


@pytest.mark.parametrize("text, error", [
    (",Nameless,,,,\n", "row 2: 'id' is empty"),
    ("C-1,A,not-an-address,,,\n", "row 2: 'email' 'not-an-address' is not an e-mail address"),
    ("C-1,A,,x:@a;kettlefan,,\n",
     "row 2: 'handles': 'kettlefan' is not channel:handle (e.g. x:@kettlefan)"),
    ("C-1,A,,X Y:@a,,\n", "row 2: 'handles': 'x y' is not a channel name"),
    ("C-1,A,,,gold,\n", "row 2: 'tier' must be customer or vip, not 'gold'"),
    ("C-1,A,,,,nobody\n", "row 2: 'account_owner': there is no active user 'nobody'"),
    ("C-1,A,,,,\nC-1,B,,,,\n", "row 3: customer id 'C-1' is also on row 2"),
    ("C-1,A,,x:@a,,\nC-2,B,,x:a,,\n", "row 3: x:@a is also on row 2"),
    ("C-1,A,,,,,extra\n", "row 2: more cells than the header has columns"),
])
def test_bad_rows_are_reported_with_their_row_number(db, text, error):
    with pytest.raises(CustomerImportError) as refused:
        rows(text)
    assert error in refused.value.errors


def test_a_bad_header_or_encoding_is_refused(db):
    with pytest.raises(CustomerImportError) as refused:
        read_customers(b"name,emial\nA,a@example.com\n")
    assert refused.value.errors == [
        "row 1: the header has no 'id' column (columns: id, name, email, handles, tier, "
        "account_owner)",
        "row 1: unknown column 'emial' (columns: id, name, email, handles, tier, "
        "account_owner)"]
    with pytest.raises(CustomerImportError, match="1 error"):
        read_customers(HEADER.encode() + b"C-1,\xff\xfe,,,,\n")


def test_one_bad_row_imports_nothing(db, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "C-1,Carol,,x:kettlefan,,\nC-2,Dan,dan@,,,\nC-3,Erin,,,vip,\n")
    with pytest.raises(CommandError, match="1 error; nothing was imported"):
        run(path)
    assert not Contact.objects.exists() and not Identity.objects.exists()


def test_a_handle_of_another_customer_is_refused(db):
    do_import_customers(rows("C-1,Carol,,x:kettlefan,,\n"))
    with pytest.raises(CustomerImportError) as refused:
        do_import_customers(rows("C-2,Mallory,,x:kettlefan,,\n"))
    assert refused.value.errors == [
        f"row 2: x:@kettlefan belongs to customer C-1 (contact "
        f"{Contact.objects.get(customer_id='C-1').pk})"]
    assert not Contact.objects.filter(customer_id="C-2").exists()


def test_a_dry_run_counts_and_changes_nothing(feed, tmp_path, agent):
    feed(post("1", "hello", author="kettlefan"))
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "C-1,Carol,,x:kettlefan;instagram:kf,,\nC-2,Dan,,,,\n")
    out, _ = run(path, "--dry-run", "--by", "alice")
    assert out.endswith("2 customers: 1 contacts created, 1 updated, 0 unchanged; 1 "
                        "identities created; 0 contacts merged into a customer's "
                        "(dry run: nothing was changed).\n")
    assert not Contact.objects.exclude(customer_id="").exists()
    assert Identity.objects.count() == 1
    assert not Event.objects.filter(verb="contacts.imported").exists()
    out, _ = run(path, "--by", "alice")
    assert "dry run" not in out and Contact.objects.exclude(customer_id="").count() == 2


def test_the_command_reports_each_bad_row_on_stderr(db, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "C-1,Carol,nope,,,\nC-2,Dan,,,silver,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 errors"):
        call_command("contacts", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert f"{path}: row 2: 'email' 'nope' is not an e-mail address" in err.getvalue()
    assert f"{path}: row 3: 'tier' must be customer or vip, not 'silver'" in err.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.csv")


def test_an_import_suggests_merges_it_does_not_make(feed):
    feed(post("1", "hello", author="kettlefan"),
         post("2", "hi", channel="instagram", author="carol.ig",
              author_email="carol@example.com"))
    do_import_customers(rows("C-1,Carol,carol@example.com,x:kettlefan,,\n"))
    carol = Contact.objects.get(customer_id="C-1")
    ig = contact_of("carol.ig", "instagram")
    assert carol != ig  # matched by handle; the e-mail alone is left to an agent
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.contact_a_id, suggestion.contact_b_id} == {carol.pk, ig.pk}
    assert suggestion.reason == "email"
