"""The M-ACM Gradio Space: `app.py` (the page), `checkpoint.py` (the model), `inference.py` (one request),
`validation.py` (limits and checks), `plots.py` (figures), `examples/` (bundled clips, `make_examples.py`).

Runs as a Hugging Face Space (`app_file: app.py`, the modules import each other as siblings), is served locally by
`macm demo` (installed as `macm.space`, with the examples and the embedded checkpoint as package data; see
`macm.processing.embedded`), and is imported as a package by the tests.
"""
