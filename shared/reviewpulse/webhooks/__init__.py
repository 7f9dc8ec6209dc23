"""Per-tenant webhooks: where they are kept (their secrets encrypted with KMS), how a delivery is
signed, which addresses a delivery may reach, and the HTTPS POST itself."""
