"""Audit's tables and the repository that holds every query."""
