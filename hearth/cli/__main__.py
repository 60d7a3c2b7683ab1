"""`python -m hearth.cli` runs the CLI (the tests use it as a person would use `hearth`)."""

from hearth.cli import main

main()
