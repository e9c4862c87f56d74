"""Real, in-process stand-ins for external services (run on loopback ports), shared by tests."""
