"""The base classes (contracts) every component implements."""
