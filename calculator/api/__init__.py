"""The HTTP API shell: /api/v1 for other government systems, over the same library calls as the CLI."""
