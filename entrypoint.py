"""Container entry point: the runner starts this as PID 1 (exec-form ENTRYPOINT)."""

import gc

# The ~950 modules imported here live as long as the process: no collection while they load (a hundred of them
# walked what was loaded so far, and found nothing to free), and their objects out of the collector's sight, so
# each collection of the run walks only the run's own objects.
gc.disable()
from batch_action.cli import main  # noqa: E402

gc.freeze()
gc.enable()

if __name__ == "__main__":
    code = main()
    # The run is over (files written, outputs set, threads joined): what is left dies with the process. Frozen,
    # it is not walked once more by the collection the interpreter makes on its way out (60,000 objects, ~40 ms
    # after a 10,000-item run).
    gc.freeze()
    raise SystemExit(code)
