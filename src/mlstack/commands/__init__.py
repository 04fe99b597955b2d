"""One module per `mlstack <verb>`: init, questions, update, diff, link, validate, check, rules, fleet.

Each holds a plain function that does the work and returns a result, and `describe()` that
turns the result into the lines the command prints; mlstack.cli only parses arguments.
"""
