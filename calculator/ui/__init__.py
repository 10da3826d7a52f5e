"""The Gradio page (calculator/ui/server.py) and its handlers: thin over the library, one module per tab."""
