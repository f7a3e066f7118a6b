"""Service instances: a WebUI host, its state, its reconciliation with the cloud."""
