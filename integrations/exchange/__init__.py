"""Exchanges with the outside world, one package per standard (DDAS, FHIR, notifications, calendars).

Each exchange turns carepath's own records into a standard's format, or a standard's
delivery into commands for the case service; none of them decides anything about a case.
"""
