"""blogengine: a static-site blog generator with built-in comment conversations."""

__version__ = "0.1.0"
