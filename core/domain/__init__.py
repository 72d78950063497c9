"""Aggregates: subject, staff, trigger, follow-up, ticket and the business calendar."""
from .calendar_book import CalendarBook
from .campaign import Campaign  # A7/F3 batch campaigns (registers their stable topics for every reader)
from .delivery import Delivery, DeliveryCursor  # messages sent through the adapters (stable topics)
from .followup import FollowUp
from .greeting import GreetingBatch  # G21
from .invite import Invite  # survey links (registers their stable topics for every reader)
from .qa import QualityCheck  # G17 (registers its stable topics for every reader of the log)
from .sampling import SampleFloor, SamplingKey  # G17: the sampling key's record, the floors' top-ups
from .staff import Staff
from .subject import Subject
from .ticket import Ticket
from .token import ApiTokens  # the HTTP service's API tokens (registers their stable topics)
from .trigger import Trigger
from .webhook import WebhookOutbox, Webhooks  # webhooks out (registers their stable topics for every reader)

__all__ = ["ApiTokens", "CalendarBook", "Campaign", "Delivery", "DeliveryCursor", "FollowUp", "GreetingBatch", "Invite", "QualityCheck",
           "SampleFloor", "SamplingKey", "Staff", "Subject", "Ticket", "Trigger",
           "WebhookOutbox", "Webhooks"]
