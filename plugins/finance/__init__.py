"""Finance (wealth management + insurance) plugin: F1–F9. Registered through the `huifang.plugins`
entry point as `huifang.plugins.finance:plugin`."""
from .plugin import plugin

__all__ = ["plugin"]
