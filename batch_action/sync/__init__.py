"""Render documents into issues, compare with GitHub, plan and apply the difference."""
