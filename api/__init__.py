"""The HTTP API, the HTML pages and the command line: the only layer that calls both graph and search."""
