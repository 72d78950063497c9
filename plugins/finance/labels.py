"""Display labels of the wealth-management and insurance codes (English msgids; zh_CN in locale/,
domain huifang_finance)."""
from __future__ import annotations

from huifang.core.plugin_api import i18n

_ = i18n.domain("huifang_finance", __file__)

LABELS = i18n.Labels(
    _,
    trigger_kind={
        "contract_signed": _("Contract signed"), "agreement_changed": _("Agreement changed"),
        "contract_terminated": _("Contract terminated"), "complaint_handled": _("Complaint handled"),
        "policy_issued": _("Policy issued"), "policy_changed": _("Policy service change"),
        "policy_lapsed": _("Renewal lapsed"), "claim_settled": _("Claim settled"),
        "agent_departed": _("Agent departed"), "special_campaign": _("Special campaign target"),
    },
    visit_type={
        "new_contract": _("New-contract follow-up"), "continuing": _("Yearly follow-up"),
        "agreement_change": _("Agreement change confirmation"), "termination": _("Termination follow-up"),
        "complaint": _("Complaint follow-up"), "new_policy": _("New-policy follow-up"),
        "policy_service": _("Policy change follow-up"), "lapsed_policy": _("Lapsed renewal follow-up"),
        "claim": _("Claim follow-up"), "orphan_policy": _("Departed agent's policy follow-up"),
        "special_campaign": _("Special campaign follow-up"),
    },
    question={
        "product_explained": _("Product explained"), "risk_explained": _("Risks explained"),
        "anomaly": _("Major anomaly"), "reasonable_basis": _("Advice had a reasonable basis"),
        "risk_disclosed": _("Risks disclosed"), "promised_returns": _("Returns promised"),
        "change_confirmed": _("Change confirmed by the client"), "reason": _("Reason for ending the contract"),
        "self_signed": _("Signed in person"), "terms_understood": _("Terms understood"),
        "cooling_off_informed": _("Knows the cooling-off period"), "done_as_requested": _("Done as requested"),
        "lapse_reason": _("Reason for the lapse"), "wants_reinstatement": _("Wants reinstatement"),
        "settled_as_expected": _("Settled as expected"), "new_contact_known": _("Knows the new contact"),
        "policy_understood": _("Understands the cover"), "answer": _("Answers to the approved questionnaire"),
        "signed_confirmation": _("Signed home-visit record reference"),
    },
    choice={
        "anomaly.none": _("None"), "anomaly.signed_on_behalf": _("Signed on the client's behalf"),
        "anomaly.traded_on_behalf": _("Traded on the client's behalf"),
        "anomaly.discretionary_mandate": _("Discretionary mandate"), "anomaly.private_fee": _("Private fee"),
        "anomaly.false_data": _("False or missing client data"),
        "anomaly.strong_dissatisfaction": _("Strong dissatisfaction"),
        "lapse_reason.financial": _("Financial difficulty"), "lapse_reason.forgot": _("Forgot to pay"),
        "lapse_reason.dissatisfied": _("Dissatisfied"), "lapse_reason.switched": _("Switched to another insurer"),
        "lapse_reason.other": _("Other"),
    },
    category={
        # G13 major anomalies
        "signed_on_behalf": _("Signed on the client's behalf"), "traded_on_behalf": _("Traded on the client's behalf"),
        "discretionary_mandate": _("Discretionary mandate"), "private_fee": _("Private fee"),
        "false_data": _("False or missing client data"), "strong_dissatisfaction": _("Strong dissatisfaction"),
        # opinions (F1–F7)
        "product_not_explained": _("Product not explained"), "risk_not_explained": _("Risks not explained"),
        "advice_without_basis": _("Advice without a reasonable basis"), "risk_not_disclosed": _("Risks not disclosed"),
        "promised_returns": _("Returns promised"), "terms_not_understood": _("Terms not understood"),
        "cooling_off_not_explained": _("Cooling-off period not explained"),
        "coverage_not_understood": _("Cover not understood"), "complaint_unresolved": _("Complaint unresolved"),
        "policy_change_wrong": _("Policy change not as requested"), "no_service_contact": _("No service contact"),
        "claim_disputed": _("Claim disputed"), "dissatisfied": _("Dissatisfied"),
    },
    department={
        "wealth_management": _("Wealth management"), "business": _("Business department"), "sales": _("Sales"),
        "compliance": _("Compliance"), "policy_service": _("Policy service"), "claims": _("Claims"),
        "sh-pudong": _("Shanghai Pudong"), "bj-chaoyang": _("Beijing Chaoyang"), "gz-tianhe": _("Guangzhou Tianhe"),
    },
    report={
        "branches": _("Finance follow-up KPIs per branch (F8)"), "channels": _("Share of each follow-up channel (F8)"),
        "fallback": _("Home visits + letters (F5, ≤ 10%)"),
    },
    column={
        "followups": _("Follow-ups"), "reached_by_channel": _("Reached on this channel"),
        "reached_share": _("Share of reached"), "policies_due": _("Policies due"),
        "policies_reached": _("Policies reached"), "policy_success_rate": _("Policy success rate"),
        "policies_reached_in_cooling_off": _("Reached in the cooling-off period"),
        "in_cooling_off_success_rate": _("Cooling-off success rate"), "meets_f4_target": _("Meets the F4 target"),
        "major_tickets": _("Major tickets"), "ticket_rate": _("Ticket rate"), "tickets_closed": _("Tickets closed"),
        "ticket_resolution_rate": _("Ticket resolution rate"), "unresolved_tickets": _("Unresolved tickets"),
        "home_visits": _("Home visits"), "letters": _("Letters"), "fallbacks": _("Home visits + letters"),
        "fallback_share": _("Home visit + letter share"), "limit_share": _("Limit"), "within_limit": _("Within the limit"),
        "denominator": _("Rate denominator"), "rate_base": _("Denominator"),
        "policy_rate_base": _("Policy denominator"), "letters_awaiting_reply": _("Letters awaiting a reply"),
        "letters_returned": _("Letters returned"),
    },
)
