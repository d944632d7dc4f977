"""A development secret per install: `make run` asks for `var/auth-secret` before it starts
anything. The first start writes 32 random bytes (hex) there, readable by its owner only;
every later start reads the same file, so tokens survive a restart and `make clean-var`
makes a new one. No two installs share a secret, and none is the default published in
the repository (which services refuse outside the test suite).

    python -m devtools.devsecret var/auth-secret     # prints nothing; the file exists after
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

MIN_LENGTH = 32


def ensure(path: str | os.PathLike) -> str:
    """The secret in `path`, written there first when it is missing (or too short)."""
    path = Path(path)
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= MIN_LENGTH:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret + "\n")
    os.replace(tmp, path)  # atomic: a concurrent start reads a whole secret or none
    return secret


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    ensure(args[0] if args else "var/auth-secret")


if __name__ == "__main__":
    main()
