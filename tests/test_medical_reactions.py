"""Reactions to answers on SQLite and PostgreSQL: M7 doctor referral, G16/G12 dissatisfaction tickets,
M5 re-examination reminders and re-examination by a later outpatient visit."""
from __future__ import annotations

from datetime import timedelta

import pytest

from huifang.core.domain import Ticket
from tests.test_medical_helpers import at, discharge, followups_of, load, local, make_app, patient, reach, trigger, ward

DISCHARGE_OK = {"recovery": 8, "adherence": "good", "symptoms": "none", "satisfaction": "满意"}


@pytest.fixture
def app(db):
    a = make_app(db)
    ward(a)
    patient(a, "P1")
    yield a
    a.close()


def test_m7_worrying_symptoms_refer_to_the_department_and_notify_the_doctor(app):
    trigger(app, "chronic_enrolment", "P1", "H", "2026-08-03T10:00+08:00", condition="hypertension",
            phase="stable", department="cardiology", responsible_nurse="n1", attending_doctor="dr9")
    fu, messages = reach(app, "H-c1", "2026-08-10T10:30+08:00",
                         {"previous_effect": "no_previous_call", "adherence": "good", "symptoms": "worrying"})
    assert fu.tickets == ["TK-H-c1-1"]
    ticket = app.load(Ticket, "TK-H-c1-1", "ticket")
    assert (ticket.category, ticket.department) == ("symptoms", "cardiology")
    assert ticket.deadline - fu.completed_at == timedelta(hours=24)  # G12: department answers within 24 h
    assert fu.notifications[0]["to"] == "dr9"  # M7: the attending doctor
    # a worrying answer also shortens the next check-in (weekly -> twice a week)
    assert load(app, "H-c2").meta["interval_days"] == 3
    assert any("ticket TK-H-c1-1" in m for m in messages)


def test_m7_no_ticket_when_symptoms_are_mild(app):
    discharge(app, "P1", "D", "2026-08-03T09:00+08:00")
    fu, _ = reach(app, "D-1", "2026-08-10T10:30+08:00", {**DISCHARGE_OK, "symptoms": "mild"})
    assert fu.tickets == [] and fu.notifications == []


def test_g16_dissatisfied_subject_opens_a_ticket_for_the_department(app):
    discharge(app, "P1", "D", "2026-08-03T09:00+08:00")
    fu, _ = reach(app, "D-1", "2026-08-10T10:30+08:00", {**DISCHARGE_OK, "satisfaction": "dissatisfied",
                                                           "dissatisfaction_code": "等候时间长",  # a label works
                                                           "dissatisfaction_reason": "排队太久"})
    ticket = app.load(Ticket, fu.tickets[0], "ticket")
    assert (ticket.category, ticket.department, ticket.status) == ("dissatisfied", "cardiology", "open")
    assert ticket.reason_code == "waiting" and app.keyring.reveal(ticket.reason) == "排队太久"  # G16
    assert ticket.owner == "hn"  # no head of cardiology named: the nurse's supervisor (G12)


def health_check(app):
    """Mon 11-02: lipids abnormal -> recall call Thu 11-05."""
    _, fus, _ = trigger(app, "health_check", "P1", "HC", "2026-11-02T09:00+08:00", findings=["lipids"],
                        responsible_nurse="n2")
    assert [f.code for f in fus] == ["HC-recall"]


def test_m5_not_yet_reexamined_plans_a_reminder(app):
    health_check(app)
    reach(app, "HC-recall", "2026-11-05T10:30+08:00", {"reexamined": "booked", "lifestyle": "planned"}, actor="n2")
    r = load(app, "HC-reminder")
    # 11-05 + 30 = Sat 12-05 -> Mon 12-07; + 37 = Sat 12-12 -> Mon 12-14
    assert (local(r.window_open), local(r.due)) == ("2026-12-07T10:00:00+08:00", "2026-12-14T23:59:59+08:00")
    assert r.visit_type == "reexam_reminder" and r.owner == "n2" and r.meta["findings"] == ["lipids"]
    reach(app, "HC-reminder", "2026-12-07T10:30+08:00", {"reexamined": "no"}, actor="n2")
    assert followups_of(app, "HC") == ["HC-recall", "HC-reminder"]  # one reminder, no endless chain


def test_m5_reexamined_answer_needs_no_reminder(app):
    health_check(app)
    reach(app, "HC-recall", "2026-11-05T10:30+08:00", {"reexamined": "yes"}, actor="n2")
    assert followups_of(app, "HC") == ["HC-recall"]


def test_m5_outpatient_visit_before_the_recall_counts_as_reexamination(app):
    health_check(app)
    trigger(app, "outpatient_visit", "P1", "OV", "2026-11-04T09:00+08:00", department="cardiology",
            specialist=True, first_visit=False)
    reach(app, "HC-recall", "2026-11-05T10:30+08:00", {"reexamined": "no"}, actor="n2")
    assert followups_of(app, "HC") == ["HC-recall"]


def test_m5_outpatient_visit_cancels_the_pending_reminder(app):
    health_check(app)
    reach(app, "HC-recall", "2026-11-05T10:30+08:00", {"reexamined": "booked"}, actor="n2")
    trigger(app, "outpatient_visit", "P1", "OV", "2026-11-20T09:00+08:00", department="cardiology",
            specialist=True, first_visit=False)
    r = load(app, "HC-reminder")
    assert r.status == "cancelled" and "M5" in r.closed_reason


def test_m5_reminder_is_not_sent_to_another_subject(app):
    patient(app, "P2")
    health_check(app)
    reach(app, "HC-recall", "2026-11-05T10:30+08:00", {"reexamined": "booked"}, actor="n2")
    trigger(app, "outpatient_visit", "P2", "OV", "2026-11-20T09:00+08:00", department="cardiology",
            specialist=True, first_visit=False)
    assert load(app, "HC-reminder").status == "planned"
    with at("2026-12-07T10:05+08:00"):
        from huifang.core.timers import tick

        assert tick(app)["opened"] == 1
