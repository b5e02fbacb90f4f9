"""Satu Pintu routing service."""
