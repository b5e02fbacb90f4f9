"""Satu Pintu mall service."""
