"""SLA: policies, business calendars, clocks as workflows hold them, the ledger and its reports."""
