"""Payment's HTTP endpoints."""
