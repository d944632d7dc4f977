"""The certification process: one workflow per submission, from the evidence check to the
debrief, and everything the services need to take part in it.

    contract.py     its names, task queues, stages, input, signals, updates and status
    activities.py   the steps it asks each service to run (one table: queue, types, timeouts)
    workflow.py     the CertificationWorkflow itself (hosted by intake's worker)
    gateway.py      the one way a service starts or signals it: recorded in the service's own
                    transaction, delivered after commit, retried until Temporal answers

No service imports another service's code; every service may import this package.
"""
