"""Read the planning tree: which files are PRDs, epics and tasks, and what each one says. Pure logic."""
