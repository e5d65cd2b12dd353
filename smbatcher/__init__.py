"""smbatcher: run batches of AI coding agents that design and build small websites."""

__version__ = "0.1.0"
