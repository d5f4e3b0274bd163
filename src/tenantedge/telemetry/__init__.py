"""What the edge tells its operator: request counts and durations, per-tenant figures, metrics and access logs."""
