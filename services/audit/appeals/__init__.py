"""Appeals: a city's appeal of audited findings, decided by auditors independent of the review."""
