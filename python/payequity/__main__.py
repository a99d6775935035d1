"""The ``payequity`` command of the Python package (console script and ``python -m payequity``): the Rust
command-line tool, run from the compiled extension, with the demo data found in the package."""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    """Runs ``payequity ARGS...`` and returns its exit code (0 success, 1 input or config error, 2 a
    configured threshold breached)."""
    from payequity import _core
    from payequity._data import data_dir

    args = ["payequity", *(sys.argv[1:] if argv is None else argv)]
    try:
        os.environ.setdefault("PAYEQUITY_DATA_DIR", str(data_dir()))
    except FileNotFoundError:
        pass  # `payequity demo` says what is missing; every other command reads the user's files.
    # The command runs in Rust without the GIL: Ctrl-C must stop it as it stops the native binary.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    return int(_core.cli_main(args))


if __name__ == "__main__":
    sys.exit(main())
