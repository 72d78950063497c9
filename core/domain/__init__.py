"""Aggregates: subject, staff, trigger, follow-up, ticket and the business calendar."""
from .calendar_book import CalendarBook
from .followup import FollowUp
from .staff import Staff
from .subject import Subject
from .ticket import Ticket
from .trigger import Trigger

__all__ = ["CalendarBook", "FollowUp", "Staff", "Subject", "Ticket", "Trigger"]
