"""Development tooling, never part of the runtime image: the local server launcher used
by `make run`, tests and benchmarks (`devstack`), its SMTP sink (`smtp_sink`), and the
in-process harness that runs the five services against real servers (`harness`)."""
