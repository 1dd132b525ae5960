"""GitHub Projects (v2): every synced issue on one board, its fields set from the front matter (README "Projects").

- `board`: the project's URL, its fields and its items, read from GraphQL replies (pure).
- `mapping`: which front-matter value goes into which board field, and the check of the mapping against the
  board (pure).
- `changes`: what one item needs on the board: added, and which fields set or cleared (pure).
- `queries`: every GraphQL document the action sends (tests validate each against GitHub's schema).
- `client`: those documents sent through the tracker's GraphQL (effects).
- `sync`: the run's view of the board and the writes of its `project` operations.
"""
