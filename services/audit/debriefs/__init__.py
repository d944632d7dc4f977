"""The city's debrief call as audit knows it: kept from notify's events, shown on the case."""
