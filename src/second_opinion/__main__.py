"""``python -m second_opinion``: the same as the ``second-opinion`` command."""

from second_opinion.cli.main import main

if __name__ == "__main__":
    main()
