"""The client of the national API: enrolment, the sync engine, form updates (no Qt)."""
