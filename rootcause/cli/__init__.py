"""The typer CLI: each command parses, calls a library function, renders."""
