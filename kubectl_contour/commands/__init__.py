"""One module per command. Each module's `register(app)` adds its command; heavy imports
happen inside the command body so that --help and completions stay fast."""
