"""One module per endpoint; each module's `router` is deployed as its own function."""
