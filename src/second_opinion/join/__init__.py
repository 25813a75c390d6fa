"""The join engine: a base table and its sidecars, joined with the semantics of docs/join.md."""
