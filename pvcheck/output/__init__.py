"""Rendering models and reports for people and programs. Knows nothing of analysis."""
