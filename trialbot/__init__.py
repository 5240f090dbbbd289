"""The shared core: settings, logging, metrics, the registry-neutral trial model, countries,
geography, registry identifiers, and the domain types the other layers exchange
(classification, matching). It imports none of `storage`, `jobs`, `bot` or `app`."""

__version__ = "0.1.0"
