"""Pydantic v2 models of counterpart's HTTP API: requests and responses, nothing else."""
