"""Conflicts of interest: an auditor's declared conflicts with a city, a state or province,
or a country, and the check every claim, assignment, decision and sign-off makes."""
