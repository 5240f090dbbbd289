"""Packaged data files (offline gazetteer); see ATTRIBUTION.md."""
