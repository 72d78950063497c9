"""Property-management plugin (物业, including renovation works): P1–P10. Registered through the
`huifang.plugins` entry point (`huifang.plugins.property:plugin`)."""
from .plugin import plugin

__all__ = ["plugin"]
