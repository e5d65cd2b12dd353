"""The counting rules on their own: what each failure class does to a site and a run (issue 19)."""

from __future__ import annotations

import pytest

from smbatcher.agents.classes import (
    AUTH, BUDGET, CANNOT_START, NO_OUTPUT, OK, OUTAGE, RATE_LIMITED, SITE, STALLED, USAGE_LIMIT,
)
from smbatcher.pool import rules


def settle(**given):
    facts = dict(ok=False, counted=True, cls=SITE, probe=False, attempt=1, max_attempts=3, cost_reached=False,
                 retries_used=0, retries=None)
    facts.update(given)
    return rules.settle(**facts)


@pytest.mark.parametrize("cls", [SITE, NO_OUTPUT, OUTAGE])
def test_site_failures_and_outages_go_to_the_breaker_and_the_halt_watch(cls):
    decision = rules.triage(cls, "failed", halted=False, probe=False)
    assert decision.judged and decision.counted and not decision.requeue


def test_a_usage_limit_holds_the_run_and_puts_the_site_first_in_line_uncounted():
    decision = rules.triage(USAGE_LIMIT, "failed", halted=False, probe=True)
    assert (decision.counted, decision.because, decision.requeue, decision.hold) == (False, "usage limit",
                                                                                     rules.FRONT, True)
    assert decision.probe_done and not decision.judged


def test_a_rate_limit_backs_off_and_a_broken_login_stops_the_run():
    rate = rules.triage(RATE_LIMITED, "failed", halted=False, probe=False)
    assert (rate.counted, rate.because, rate.requeue, rate.back_off) == (False, "rate limited", rules.FRONT, True)
    auth = rules.triage(AUTH, "failed", halted=False, probe=False)
    assert (auth.counted, auth.because, auth.stop_run, auth.requeue) == (False, "auth failure", True, "")


def test_after_a_halt_nothing_counts_but_a_success_still_does():
    assert rules.triage(SITE, "failed", halted=True, probe=False) == rules.Decision(counted=False, because="halted")
    assert rules.triage(OK, "ok", halted=True, probe=False).judged


def test_a_stopped_attempt_is_not_judged_and_frees_the_probe():
    decision = rules.triage("stopped", "stopped", halted=False, probe=True)
    assert not decision.judged and decision.probe_done


def test_a_counted_failure_is_retried_until_max_attempts_then_parked():
    assert settle(attempt=1).requeue == rules.RETRY
    assert settle(attempt=3) == rules.Decision(park=True)
    assert settle(attempt=1, cost_reached=True).park


def test_retries_run_out_before_attempts_do():
    assert settle(retries=1, retries_used=1) == rules.Decision()  # counted, neither retried nor parked


def test_an_outage_counts_only_as_the_breakers_probe():
    assert settle(cls=OUTAGE) == rules.Decision(counted=False, because="outage", requeue=rules.LATER)
    assert settle(cls=OUTAGE, probe=True).requeue == rules.RETRY


def test_a_failure_the_breaker_did_not_count_is_tried_again_later():
    assert settle(counted=False) == rules.Decision(counted=False, requeue=rules.LATER)
    assert settle(ok=True) == rules.Decision()


def test_a_sites_first_stall_is_not_counted_and_a_second_one_is_judged_like_a_failure():
    first = rules.triage(STALLED, "error", halted=False, probe=False, stalled_before=False)
    assert (first.counted, first.because, first.requeue, first.judged) == (False, "first stall", rules.LATER, False)
    again = rules.triage(STALLED, "error", halted=False, probe=False, stalled_before=True)
    assert again.judged and again.counted
    assert settle(cls=STALLED).requeue == rules.RETRY


def test_a_spent_cap_parks_the_site_without_the_breaker_or_the_halt():
    decision = rules.triage(BUDGET, "failed", halted=False, probe=True)
    assert decision.park and decision.counted and not decision.judged and decision.probe_done


def test_an_agent_that_cannot_start_stops_the_run_and_counts_nothing():
    decision = rules.triage(CANNOT_START, "error", halted=False, probe=False)
    assert (decision.counted, decision.stop_run, decision.judged) == (False, True, False)
