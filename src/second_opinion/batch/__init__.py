"""Batches: a manifest of jobs, planned against their provenance, run incrementally in parallel."""
