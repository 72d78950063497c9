"""Display labels of the aesthetics clinic's codes (English msgids; zh_CN in locale/, domain huifang_aesthetics)."""
from __future__ import annotations

from huifang.core.plugin_api import i18n

_ = i18n.domain("huifang_aesthetics", __file__)

LABELS = i18n.Labels(
    _,
    trigger_kind={
        "consultation": _("Consultation"), "procedure": _("Treatment"), "experience": _("Experience customer"),
        "membership_granted": _("Membership granted"), "activity": _("Activity or promotion"),
        "campaign": _("Batch campaign target"),
    },
    visit_type={
        "not_visited": _("Consulted, never came"), "not_purchased": _("Came, did not buy"),
        "dressing_reminder": _("Dressing change reminder"), "post_op_care": _("Post-operative care"),
        "stitch_reminder": _("Stitch removal reminder"), "recovery_care": _("Recovery care"),
        "recheck_invite": _("Re-check invitation"), "result_check": _("Result check"),
        "treatment_care": _("Treatment care"), "guidance": _("Professional guidance"), "scab_check": _("Scab check"),
        "weekly_check": _("Weekly result check"), "topup_reminder": _("Top-up reminder"),
        "next_session_reminder": _("Next session reminder"), "activity": _("Activity callback"),
        "marketing": _("Marketing follow-up"), "batch": _("Batch campaign follow-up"),
        "experience_first": _("Experience customer, first call"),
        "experience_second": _("Experience customer, second call"), "membership_rights": _("Membership rights"),
    },
    question={
        "interest": _("Interest"), "objection": _("Objection"), "complaint_risk": _("Likely to complain"),
        "will_come": _("Will come as planned"), "appointment": _("Appointment"), "healing": _("Healing"),
        "follows_care": _("Following the care instructions"), "feeling": _("Feeling"), "result": _("Result score"),
        "referral": _("Would refer a friend"), "knows_rights": _("Knows the membership rights"),
    },
    choice={
        "interest.booked": _("Booked"), "interest.interested": _("Interested"),
        "interest.not_interested": _("Not interested"),
        "healing.normal": _("Normal"), "healing.slow": _("Slow"), "healing.abnormal": _("Abnormal"),
        "feeling.good": _("Good"), "feeling.ok": _("All right"), "feeling.worried": _("Worried"),
        "feeling.poor": _("Poor"),
    },
    category={"complaint_risk": _("Complaint risk"), "recovery_problem": _("Recovery problem")},
    department={
        "surgery": _("Cosmetic surgery"), "skin": _("Skin care"), "injectables": _("Injectables"),
        "dental": _("Cosmetic dentistry"), "tcm": _("Traditional Chinese medicine"),
        "noninvasive": _("Non-invasive treatments"), "consultation": _("Consultation"), "marketing": _("Marketing"),
        "member_centre": _("Member centre"), "clinical": _("Clinical"),
    },
    role={
        "online_consultant": _("Online consultant"), "consultant": _("Consultant"), "nurse": _("Nurse"),
        "assistant": _("Assistant"), "member_specialist": _("Member specialist"),
        "activity_owner": _("Activity owner"),
    },
    plugin={"aesthetics": _("Medical aesthetics")},
)
