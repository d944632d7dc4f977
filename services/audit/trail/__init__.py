"""The trail: every action on a case or an auditor, append-only and hash-chained, with
its exports and the check that finds an edit, an insertion or a removal."""
