"""Sphinx configuration of flowgraph's documentation site.

Build it with ``python -m flowgraph.docs build``, which stages this folder with the generated
API and op-catalog pages and runs Sphinx with warnings as errors (see docs/README.md).
"""

import os

import flowgraph

project = "flowgraph"
author = "flowgraph contributors"
copyright = "flowgraph contributors"
release = version = flowgraph.__version__

extensions = [
    "myst_nb",  # MyST markdown, and guides/notebooks executed at build time
    "sphinx.ext.autodoc",  # the API reference, from docstrings
    "sphinx.ext.viewcode",  # highlighted source pages linked from every API entry
]
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints", "notebooks/README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# Every guide and notebook runs top to bottom at build time.
nb_execution_mode = "force"
nb_execution_timeout = 180
# A failing cell is a warning with its traceback (nb_execution_show_tb); -W makes it fail the build.
nb_execution_raise_on_error = False
nb_execution_show_tb = True
if os.environ.get("FLOWGRAPH_DOCS_EXECUTE_NOTEBOOKS") == "0":
    nb_execution_excludepatterns = ["notebooks/*"]
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
# Objects stay out of the navigation tree: with hundreds of them, every page would carry them all.
toc_object_entries = False
autodoc_typehints = "description"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = (
    False  # a subclass of graphviz.Digraph would show its Google-style docs
)

html_theme = "furo"
html_title = f"flowgraph {release}"
html_static_path = ["_static"]
html_css_files = ["flowgraph.css"]
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}
