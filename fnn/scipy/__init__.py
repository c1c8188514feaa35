"""fnn.scipy: the parts of scipy's API that fnn implements (``fnn.scipy.special``).

Example:
    >>> import fnn.scipy
    >>> fnn.scipy.special.expit(0.0)
    Array(0.5, dtype=float32)
"""

from fnn.scipy import special

__all__ = ["special"]
