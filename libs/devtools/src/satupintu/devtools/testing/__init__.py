"""Test support shared by every member: real-infrastructure fixtures (a pytest plugin) and waiting helpers."""
