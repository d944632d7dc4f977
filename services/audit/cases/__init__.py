"""Review cases: opening (from the workflow or the submission event), the queue, claiming,
assigning and handing back (one holder at a time), audit's copy of the submission and its
evidence files, and the whole case as the console and the API read it."""
