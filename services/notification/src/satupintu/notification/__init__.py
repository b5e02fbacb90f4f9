"""Satu Pintu notification service."""
