"""Read-side helpers: plain functions that derive what the pages show from stored rows."""
