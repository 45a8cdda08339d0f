"""Faithful test doubles that real client libraries talk to unmodified."""
