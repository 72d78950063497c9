"""The `huifang` command line (see main.py)."""

# The distribution's version (pyproject.toml), read by `huifang --version` without importlib.metadata;
# tests/test_cli_plugins.py checks it matches the installed metadata.
__version__ = "0.1.0"
