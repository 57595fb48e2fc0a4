"""The package version, single-sourced for setuptools and ``sansio_chat.__version__``."""

__version__ = "0.1.0"
