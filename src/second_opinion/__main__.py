"""``python -m second_opinion``: the same as the ``second-opinion`` command."""

from second_opinion.cli.main import entry

if __name__ == "__main__":
    entry()
