"""stormwatch: social listening with an early warning for online firestorms."""

__version__ = "0.1.0"
