"""The `caseflow` command: run the system, manage users, data, rules and e-mail.

Outside the core (`caseflow/`): it starts the worker and the API, which the core never
imports."""
