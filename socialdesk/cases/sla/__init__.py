"""SLA clocks: targets that start with a case, pause while it waits on the customer,
stop on our reply or its resolution, and warn and act when they run out.

Due and warning times are worked out in the team's business calendar when a clock
starts or resumes and stored as instants, so `do_evaluate_clocks`, which watches
every open case, only compares timestamps along two indexes.
"""

from socialdesk.cases.sla.changes import (
    do_note_inbound,
    do_note_response,
    do_note_responses,
    do_note_status,
    do_note_statuses,
)
from socialdesk.cases.sla.common import (
    REPLY_WINDOW_WARNING,
    case_sla_status,
    policy_for,
)
from socialdesk.cases.sla.starting import do_start_clocks
from socialdesk.cases.sla.tick import ClockReport, do_evaluate_clocks

__all__ = [
    "REPLY_WINDOW_WARNING", "ClockReport", "case_sla_status",
    "do_evaluate_clocks", "do_note_inbound", "do_note_response", "do_note_responses",
    "do_note_status", "do_note_statuses", "do_start_clocks", "policy_for",
]
