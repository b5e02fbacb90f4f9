"""Routing's HTTP routers."""
