"""Audit workbench for benchmarking cluster organisations.

Heavy modules (pandas, matplotlib, papermill) are imported by the submodules that need
them, never here, so `import auditlib` and the CLI's start stay fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
