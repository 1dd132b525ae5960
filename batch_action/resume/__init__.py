"""Resume: finish what an earlier failed run left undone, from its checkpoint.

- `locate.py`: which checkpoint (`replay` input), downloaded or read from a folder, checked to name this repository;
- `decide.py`: the pure replay decisions (what is done, landed, superseded, still to run);
- `state.py`: the state file (`state.json`: plan, desired state, observed digests, commit) and the journal's
  bounded, type-checked reading.

The run's apply phase (`run/apply.py: replay_checkpoint`) runs what is left through the engine.
"""

from batch_action.resume.decide import MAX_LISTED, ReplayPlan, plan_replay
from batch_action.resume.locate import Checkpoint, ResumeConfig, foreign_run, locate_checkpoint
from batch_action.resume.state import (
    JOURNAL_FILE,
    STATE_FILE,
    SUMMARY_FILE,
    CheckpointError,
    StoredState,
    load_checkpoint_journal,
    load_state,
    write_state,
)

__all__ = [
    "JOURNAL_FILE",
    "MAX_LISTED",
    "STATE_FILE",
    "SUMMARY_FILE",
    "Checkpoint",
    "CheckpointError",
    "ReplayPlan",
    "ResumeConfig",
    "StoredState",
    "foreign_run",
    "load_checkpoint_journal",
    "load_state",
    "locate_checkpoint",
    "plan_replay",
    "write_state",
]
