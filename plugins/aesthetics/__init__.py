"""Medical-aesthetics clinic plugin: A1–A10. Registered through the `huifang.plugins` entry point."""
from .plugin import plugin

__all__ = ["plugin"]
