"""The catalog: one module per family, each listing its entries explicitly."""

from . import activations, backpropagation, depth, initialization, losses, softmax
from . import attention, regularization
from . import recurrent
from . import normalization
from .registry import Entry, entries, get

ENTRIES: tuple[Entry, ...] = (*activations.ENTRIES, *softmax.ENTRIES, *losses.ENTRIES,
                               *initialization.ENTRIES, *backpropagation.ENTRIES,
                               *depth.ENTRIES,
                               *regularization.ENTRIES, *attention.ENTRIES,
                               *recurrent.ENTRIES,
                               *normalization.ENTRIES)

__all__ = ["ENTRIES", "Entry", "entries", "get"]
