"""Notification's HTTP routers."""
