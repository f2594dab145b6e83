"""Pydantic models: what comes in (events), what is stored (profile) and what goes out."""
