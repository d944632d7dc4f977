"""The review call: its agenda (every criterion flagged so far) and its notes."""
