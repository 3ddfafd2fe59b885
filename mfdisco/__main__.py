"""``python -m mfdisco``: the command line (what the ``mfdisco`` console script runs)."""

from mfdisco.platform.cli import main

if __name__ == "__main__":
    main()
