"""feint plugin: ONE-LINE SUMMARY.  Keep this file tiny; never import a framework here."""

from feint_KIND_NAME.module import ClassName

__version__ = "0.1.0"
__all__ = ["ClassName"]
