"""The desk's own tables and the repository holding every query on them."""
