"""ReviewPulse domain package: shipped to Lambda as the DomainLayer."""
