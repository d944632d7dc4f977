"""Pure scoring rules shared by the services that need the same numbers: the explainable
engine (points, areas, tiers), benchmark math and the next-tier simulator. No I/O.

The scoring service owns scores and benchmark aggregates (its tables, its API); reporting's
offline preview computes with the same code so a previewed report and a real one agree.
"""
