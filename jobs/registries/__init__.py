"""Registry adapters: one module per registry behind the `Registry` interface in `base`."""
