"""Container entry point: the runner starts this as PID 1 (exec-form ENTRYPOINT)."""

import gc

from batch_action.cli import main

# The ~950 imported modules' objects live as long as the process: out of the collector's sight, each collection
# of the run walks only the run's own objects.
gc.freeze()

if __name__ == "__main__":
    raise SystemExit(main())
