"""Container entry point: the runner starts this as PID 1 (exec-form ENTRYPOINT)."""

import gc
import sys
import warnings

# Two optional libraries of PyGithub's dependencies that the action never uses, kept out of its process (~11 MB
# resident and ~35 ms of start-up together). Only here, in the action's own process: the library
# (`batch_action.sync`) leaves a user's process as it was.
# - the crypto backend PyJWT loads to sign GitHub App keys: the action signs in with a token, and PyJWT runs
#   without it (`jwt.algorithms.has_crypto` is False);
# - the character-set guesser requests uses for a reply that names no charset: the API's JSON is UTF-8, and
#   requests' documented fallback without a guesser is UTF-8 (it warns once at import that it has none).
for unused in ("cryptography", "charset_normalizer", "chardet"):
    sys.modules.setdefault(unused, None)  # type: ignore[arg-type]
warnings.filterwarnings("ignore", message="Unable to find acceptable character detection dependency")

from batch_action.cli import main  # noqa: E402  (after the lines above, which must precede PyGithub's import)

# The ~950 imported modules' objects live as long as the process: out of the collector's sight, each collection
# of the run walks only the run's own objects.
gc.freeze()

if __name__ == "__main__":
    raise SystemExit(main())
