"""The application layer: the `Maatwerk` core, the CLI, the JSON API, SPARQL, linked data and the web UI."""
