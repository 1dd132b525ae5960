"""Container entry point: the runner starts this as PID 1 (exec-form ENTRYPOINT)."""

import contextlib
import ctypes
import gc
import sys
import warnings

# One malloc arena for the whole process. glibc gives each thread that allocates its own arena, and each keeps
# what it freed: with the engine's ten workers that held ~3 MB more at the end of a 10,000-item sync (25 % of what
# the run itself allocates). Python allocates under its interpreter lock, so the threads hardly ever wait for the
# one arena. Set before any thread starts; elsewhere than glibc (no `mallopt`) nothing changes.
_M_ARENA_MAX = -8  # glibc's malloc.h
with contextlib.suppress(OSError, AttributeError):  # not glibc
    ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)

# Two optional libraries of PyGithub's dependencies that the action never uses, kept out of its process (~11 MB
# resident and ~20 ms of start-up together). Only here, in the action's own process: the library
# (`batch_action.sync`) leaves a user's process as it was.
# - the crypto backend PyJWT loads to sign GitHub App keys: the action signs in with a token, and PyJWT runs
#   without it (`jwt.algorithms.has_crypto` is False);
# - the character-set guesser requests uses for a reply that names no charset: the API's JSON is UTF-8, and
#   requests' documented fallback without a guesser is UTF-8 (it warns once at import that it has none).
for unused in ("cryptography", "charset_normalizer", "chardet"):
    sys.modules.setdefault(unused, None)  # type: ignore[arg-type]
warnings.filterwarnings("ignore", message="Unable to find acceptable character detection dependency")

# The ~950 modules imported here live as long as the process: no collection while they load (a hundred of them
# walked what was loaded so far, and found nothing to free), and their objects out of the collector's sight, so
# each collection of the run walks only the run's own objects.
gc.disable()
from batch_action.cli import main  # noqa: E402  (after the lines above, which must precede PyGithub's import)

gc.freeze()
gc.enable()

if __name__ == "__main__":
    code = main()
    # The run is over (files written, outputs set, threads joined): what is left dies with the process. Frozen,
    # it is not walked once more by the collection the interpreter makes on its way out (60,000 objects, ~40 ms
    # after a 10,000-item run).
    gc.freeze()
    raise SystemExit(code)
