"""The inbox by keyboard and its live updates, in a real browser."""

from datetime import timedelta

from socialdesk.cases.models import Case
from socialdesk.web.tests.test_inbox import make_case
from tests.e2e.desk import Recorder, log_in, open_page, settle

ROWS = "#inbox-table tbody tr[data-case]"


def current(page) -> int:
    return int(page.evaluate("document.querySelector('tr.current').getAttribute('data-case')"))


def poll(page) -> None:
    """Run the inbox's live poll now instead of waiting 15 seconds for it."""
    url = page.locator("#inbox-live").get_attribute("hx-get")
    page.evaluate("(url) => htmx.ajax('GET', url, {target: '#inbox-live', swap: 'innerHTML'})",
                  url)


def test_an_agent_moves_selects_assigns_and_resolves_by_keyboard(page, server, agent, teams):
    care = teams["care"]
    for text, due in (("first kettle", 5), ("second kettle", 50), ("third kettle", 300)):
        make_case(care, text=text, due_in=timedelta(minutes=due))
    recorder = Recorder(page)
    log_in(page, agent.username)
    open_page(page, "/?view=all")
    rows = page.locator(ROWS)
    assert rows.count() == 3

    for key in "jjjj":  # the fourth press stays on the last row
        page.keyboard.press(key)
    assert "current" in rows.nth(2).get_attribute("class")
    page.keyboard.press("k")
    second = current(page)
    page.keyboard.press("x")
    assert page.locator(f"#sel-{second}").is_checked()
    assert page.locator("[data-selected-count]").inner_text() == "1 selected"
    page.keyboard.press("x")
    assert not page.locator(f"#sel-{second}").is_checked()

    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts").is_visible()

    page.locator("#id_q").focus()  # typing in a field moves and selects nothing
    page.keyboard.type("jjk x")
    assert current(page) == second
    assert not page.locator(f"#sel-{second}").is_checked()
    page.evaluate("document.activeElement.blur()")

    with page.expect_navigation():
        page.keyboard.press("e")
    settle(page)
    assert Case.objects.get(pk=second).status == Case.Status.RESOLVED

    page.keyboard.press("j")
    chosen = current(page)
    with page.expect_navigation():
        page.keyboard.press("a")
    settle(page)
    assert Case.objects.get(pk=chosen).assignee_id == agent.pk

    page.keyboard.press("j")
    chosen = current(page)
    page.keyboard.press("r")
    page.wait_for_url(f"**/cases/{chosen}/#composer")
    recorder.collect()
    assert not recorder.problems, recorder.problems


def test_new_cases_appear_unless_the_agent_has_rows_selected(page, server, agent, teams):
    care = teams["care"]
    make_case(care, text="first kettle", due_in=timedelta(minutes=5))
    log_in(page, agent.username)
    open_page(page, "/?view=all")

    make_case(care, text="brand new kettle", due_in=timedelta(minutes=1))
    page.evaluate("document.activeElement.blur()")
    poll(page)
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 2")

    page.locator(f"{ROWS} input[name=ids]").first.check()
    make_case(care, text="another kettle", due_in=timedelta(minutes=2))
    poll(page)
    page.wait_for_selector("#inbox-live [data-inbox-show]")
    assert "1 new case" in page.locator("#inbox-live").inner_text()
    assert page.locator(ROWS).count() == 2  # the selection is not swept away
    page.locator("#inbox-live [data-inbox-show]").click()
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 3")
