"""Application services: what the web pages, the CLI and the demo do, in one place each."""
