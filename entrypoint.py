"""Container entry point: the runner starts this as PID 1 (exec-form ENTRYPOINT)."""

from batch_action.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
