"""Intake's HTTP routers."""
