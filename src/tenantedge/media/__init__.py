"""Per-tenant assets: uploaded images, icons and fonts, content-addressed in the origin and served on the tenant's
own domains at immutable digest URLs."""
