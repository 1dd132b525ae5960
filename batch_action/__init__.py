"""Mirror CCPM / ClaudeAutoPM planning markdown as GitHub issues.

The public Python API (README "Python library"): `sync` and `plan`, the outcome they return, and the hooks'
types. Everything else is the action's inside and may change between versions.
"""

__version__ = "0.1.0"

from batch_action.api import SyncOutcome, plan, sync
from batch_action.hooks import Draft, Item, Progress, Transform

__all__ = ["Draft", "Item", "Progress", "SyncOutcome", "Transform", "__version__", "plan", "sync"]
