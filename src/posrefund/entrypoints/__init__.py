"""The ways in: HTTP API, CLI, worker, console."""
