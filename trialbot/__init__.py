"""Shared core of the trial-alert service: settings, the registry-neutral trial model, CLI."""

__version__ = "0.1.0"
