"""Mirror CCPM / ClaudeAutoPM planning markdown as GitHub issues."""

__version__ = "0.1.0"
