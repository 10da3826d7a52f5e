"""The Gradio page (calculator/ui/layout.py) and its handlers: thin over the library, one module per tab."""
