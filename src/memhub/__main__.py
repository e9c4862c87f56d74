"""``python -m memhub``: the same as the ``memhub`` command (tests and bench start servers this way)."""

from memhub.cli import main

if __name__ == "__main__":
    main(prog_name="memhub")
