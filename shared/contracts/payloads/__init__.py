"""Event payloads, one module per producing service (the certification workflow's own
status changes in `certification`). `shared.contracts.events` maps subjects to them."""
