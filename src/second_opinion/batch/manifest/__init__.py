"""Manifests: the file's models, reading and checking it, and the jobs it resolves to."""
