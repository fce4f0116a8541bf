"""The ranked-hassle report: data model (model.py) and renderers (render.py) for HTML, Markdown, CSV."""
