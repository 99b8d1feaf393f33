"""Derived text per paper: keywords and a one-line summary (computed by the index run)."""
