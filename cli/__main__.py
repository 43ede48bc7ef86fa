"""`python -m cli`: the `caseflow` command."""

from cli.main import main

main()
