"""Debriefs: the offer (from the workflow), auditors' slots, a city's booking of one
(moved, cancelled or declined by either side), reminders and the outcome."""
