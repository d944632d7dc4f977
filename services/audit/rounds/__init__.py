"""Clarification rounds: the auditor asks the city on named criteria with a due date; the
round closes with the city's answer or, unanswered, at its due date."""
