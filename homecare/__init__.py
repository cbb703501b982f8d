"""Home help: beneficiaries, care plans, aides, visits, planning, validation, hour quotas.

Rooms as in docs/architecture.md: models.py, services.py, jobs.py, sync.py.
"""
