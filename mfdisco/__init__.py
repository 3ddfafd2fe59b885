"""mfdisco: multi-fidelity discovery of crystals where standard DFT goes wrong."""

__version__ = "0.1.0"

__all__ = ["__version__"]
