"""Appointments: services, locations, opening plans, slots, bookings, walk-ins, waiting list.

Rooms as in docs/architecture.md: models.py, services.py, jobs.py.
"""
