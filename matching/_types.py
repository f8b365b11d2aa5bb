"""Array and pair types shared by the engine's modules."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["BoolArray", "Float32Array", "FloatArray", "IntArray", "Pair"]

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
#: A (row, column) pair: a northeast region's row and an eastern region's column.
Pair = tuple[int, int]
