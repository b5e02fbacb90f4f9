"""Satu Pintu's shared library: the event contract and the plumbing every service stands on."""
