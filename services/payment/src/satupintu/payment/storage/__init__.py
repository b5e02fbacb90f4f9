"""Payment's storage: the bills table and every query the service makes."""
