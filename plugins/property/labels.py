"""Display labels of the property manager's codes (English msgids; zh_CN in locale/, domain huifang_property)."""
from __future__ import annotations

from huifang.core.plugin_api import i18n

_ = i18n.domain("huifang_property", __file__)

LABELS = i18n.Labels(
    _,
    trigger_kind={
        "complaint_handled": _("Complaint handled"), "repair_completed": _("Repair completed"),
        "household_registered": _("Household moved in"), "household_left": _("Household moved out"),
        "satisfaction_survey": _("Satisfaction survey returned"), "service_contract": _("Contracted service"),
        "activity_held": _("Community activity"), "emergency_aid": _("Emergency help"),
        "renovation_started": _("Renovation started"), "renovation_completed": _("Renovation completed"),
    },
    visit_type={
        "complaint_callback": _("Complaint callback"), "complaint_recheck": _("Complaint re-check"),
        "repair_callback": _("Repair callback"), "home_visit": _("Home visit"),
        "survey_problem": _("Survey problem follow-up"), "contract_midterm": _("Contracted service, mid-term"),
        "contract_end": _("Contracted service, after the end"), "activity_callback": _("Activity callback"),
        "emergency_callback": _("Emergency help callback"), "renovation_early": _("Renovation, early visit"),
        "renovation_midterm": _("Renovation, mid-term visit"), "renovation_completion": _("Renovation completion visit"),
        "warranty_check": _("Warranty spot check"), "yearly_survey": _("Yearly owner satisfaction survey"),
    },
    question={
        "quality": _("Quality of the work"), "effect": _("Effect of the service"), "shortcomings": _("Shortcomings"),
        "timeliness": _("Timeliness"), "passed": _("Repair up to standard"), "problem": _("Problem raised"),
        "resident_confirmed": _("Confirmed by the resident"), "complaint": _("Complaint about"),
        "weakest": _("Service most needing improvement"), "problems": _("Problems to follow up"),
    },
    choice={
        "quality.good": _("Good"), "quality.fair": _("Fair"), "quality.poor": _("Poor"),
        "effect.resolved": _("Resolved"), "effect.partly": _("Partly"), "effect.not_resolved": _("Not resolved"),
        "effect.yes": _("Achieved"), "effect.no": _("Not achieved"),
        "timeliness.on_time": _("On time"), "timeliness.late": _("Late"),
        "problem.none": _("None"), "problem.repair": _("Repair"), "problem.security": _("Security"),
        "problem.sanitation": _("Sanitation"), "problem.neighbours": _("Neighbours"), "problem.other": _("Other"),
        "complaint.none": _("No complaint"), "complaint.designer": _("Designer"),
        "complaint.inspector": _("Inspector"), "complaint.crew": _("Construction crew"), "complaint.other": _("Other"),
        "weakest.none": _("None"), "weakest.security": _("Security"), "weakest.sanitation": _("Sanitation"),
        "weakest.repair": _("Repair"), "weakest.greening": _("Greening"), "weakest.parking": _("Parking"),
        "weakest.fees": _("Fees"), "weakest.other": _("Other"),
    },
    category={
        # complaint and repair categories (trigger attributes)
        "noise": _("Noise"), "sanitation": _("Sanitation"), "parking": _("Parking"), "greening": _("Greening"),
        "fees": _("Fees"), "lift": _("Lift"), "water_pressure": _("Water pressure"), "plumbing": _("Plumbing"),
        "electrical": _("Electrical"), "door_lock": _("Door lock"), "leak": _("Leak"), "appliance": _("Appliance"),
        "renovation_noise": _("Renovation noise"),
        # tickets opened from callbacks
        "complaint_noise": _("Complaint unresolved: noise"), "complaint_sanitation": _("Complaint unresolved: sanitation"),
        "complaint_parking": _("Complaint unresolved: parking"), "complaint_greening": _("Complaint unresolved: greening"),
        "complaint_fees": _("Complaint unresolved: fees"), "complaint_lift": _("Complaint unresolved: lift"),
        "complaint_water_pressure": _("Complaint unresolved: water pressure"),
        "complaint_renovation_noise": _("Complaint unresolved: renovation noise"),
        "complaint_other": _("Complaint unresolved: other"),
        "repair_failed": _("Repair failed"), "repair_dissatisfied": _("Dissatisfied with a repair"),
        "home_repair": _("Home visit: repair"), "home_security": _("Home visit: security"),
        "home_sanitation": _("Home visit: sanitation"), "home_neighbours": _("Home visit: neighbours"),
        "home_other": _("Home visit: other"),
        "survey_problem": _("Survey problem"), "survey_dissatisfied": _("Dissatisfied in the yearly survey"),
        "contract_midterm": _("Contracted service, mid-term"),
        "contract_end": _("Contracted service, after the end"), "activity_callback": _("Activity"),
        "emergency_callback": _("Emergency help"),
        "renovation_designer": _("Renovation: designer"), "renovation_inspector": _("Renovation: inspector"),
        "renovation_crew": _("Renovation: crew"), "renovation_other": _("Renovation: other"),
        "renovation_quality": _("Renovation: quality"),
        # P8 findings
        "repeat_complaint": _("Repeated complaint"), "repeat_repair": _("Repeated repair"),
        "failed_callback": _("Failed callback"),
    },
    department={
        "engineering": _("Engineering"), "renovation": _("Renovation management"), "dispatch": _("Dispatch centre"),
        "security": _("Security"), "cleaning": _("Cleaning"),
    },
    role={"designer": _("Designer"), "inspector": _("Inspector"), "crew": _("Construction crew"),
          "worker": _("Repair worker")},
    report={
        "repeats": _("Repeats and failed callbacks per quarter, non-conformities (P8)"),
        "workers": _("Repair results per worker (P2)"),
        "renovation": _("Complaint rate per designer / inspector / crew (P9)"),
        "survey": _("Yearly owner survey: response and satisfaction per project / building (P4)"),
    },
    column={
        "finding": _("Finding"), "unit": _("Unit"), "min_count": _("Threshold"), "items": _("Records"),
        "first": _("First"), "last": _("Last"), "rule": _("Rule"), "worker": _("Repair worker"),
        "repairs": _("Repairs"), "sampled": _("Sampled"), "callbacks": _("Callbacks"),
        "redo_callbacks": _("Re-work callbacks"), "redo_failed": _("Re-work failed"),
        "satisfaction_rate": _("Satisfaction rate"), "person": _("Person"), "projects": _("Projects"),
        "complaints": _("Complaints"), "complained_projects": _("Projects complained about"),
        "complaint_rate": _("Complaint rate"), "year": _("Year"), "project": _("Project"), "building": _("Building"),
        "households": _("Households"), "answered": _("Answered"), "response_rate": _("Response rate"),
        "problems": _("Problems raised"), "problems_followed": _("Problems followed up"),
    },
)
