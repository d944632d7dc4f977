"""What every service's HTTP edge shares: problem+json errors, the request context
middleware, typed dependencies, and the machinery of server-rendered consoles (layout,
language, CSRF, assets) that the city portal, the auditor console, the report pages and
the operator view are built with."""
