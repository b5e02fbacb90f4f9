"""Satu Pintu agency service."""
