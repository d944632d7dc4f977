"""Four-eyes sign-off: the reviewer asks, a second auditor approves (over a hash of the
decisions they read) or returns the case with comments."""
