"""Medical (hospital) plugin: M1–M9. Registered through the `huifang.plugins` entry point."""
from .plugin import plugin

__all__ = ["plugin"]
