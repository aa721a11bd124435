"""Clameur: the self-hosted social media command center."""

__version__ = "0.1.0"
