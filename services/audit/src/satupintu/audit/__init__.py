"""Satu Pintu audit service."""
