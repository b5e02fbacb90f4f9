"""Satu Pintu intake service."""
