"""Appointment pages: public booking, the SMS link page, the desk, settings and the API."""
