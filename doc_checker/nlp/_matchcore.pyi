"""Types of the compiled matcher core (``_matchcore.pyx``), for type checkers."""

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

# (pred or -1, sent_start -1/0/1, lo, hi or -1)
_Element = Tuple[int, int, int, int]
# (anchor, next_pred or -1, next_dist, [(optional pred, dist)], [required preds])
_Plan = Tuple[int, int, int, Sequence[Tuple[int, int]], Sequence[int]]

class Patterns:
    n_patterns: int
    def __init__(
        self, patterns: Iterable[Tuple[int, Sequence[_Element], Optional[_Plan]]]
    ) -> None: ...

def rows_of(
    orths: npt.NDArray[np.uint64], row_of: Dict[int, int]
) -> Tuple[npt.NDArray[np.int32], int]: ...
def match(
    pats: Patterns,
    rows: npt.NDArray[np.int32],
    bits: npt.NDArray[np.uint64],
    sent: npt.NDArray[np.uint8],
    n_preds: int,
) -> List[Tuple[int, int, int]]: ...
def longest_first(matches: Iterable[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]: ...
