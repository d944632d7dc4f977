"""Decisions: per criterion, confirmed or changed with a reason code, an explanation and
what would satisfy it; versioned, and bound to the evidence they judged."""
