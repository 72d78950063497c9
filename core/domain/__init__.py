"""Aggregates: subject, staff, trigger, follow-up, ticket and the business calendar."""
from .calendar_book import CalendarBook
from .campaign import Campaign  # A7/F3 batch campaigns (registers their stable topics for every reader)
from .followup import FollowUp
from .greeting import GreetingBatch  # G21
from .qa import QualityCheck  # G17 (registers its stable topics for every reader of the log)
from .staff import Staff
from .subject import Subject
from .ticket import Ticket
from .trigger import Trigger

__all__ = ["CalendarBook", "Campaign", "FollowUp", "GreetingBatch", "QualityCheck", "Staff", "Subject", "Ticket",
           "Trigger"]
