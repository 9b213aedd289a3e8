"""The M-ACM Gradio Space: `app.py` (the page), `inference.py` (model + pipeline), `validation.py`, `plots.py`.

Runs as a Hugging Face Space (`app_file: app.py`, modules import each other as siblings) or imported as a
package (`space.app.launch(port, model)`, the tests).
"""
