"""Results and publications of trials, from literature databases (PubMed first).

Not registries: these clients find what was published about a trial already known, by its
registry ids; they do not produce trials. Storage, scheduling and alerts call them.
"""
