"""Import a dataset into the database: read, screen, deduplicate, store in batches."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import Engine

from mfdisco.db import NewStructure, add_structures
from mfdisco.generator.datasets import CrystalRecord, DatasetStream, Rejection, screen_structures

__all__ = ["ImportReport", "import_dataset"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        source: dataset name.
        read: entries read (accepted + rejected).
        inserted: new rows in ``structures``.
        duplicates: accepted entries whose structure was already stored, or repeated
            in the input (same canonical hash).
        rejections: every rejected entry with its reason.
        seconds: wall time.
    """

    source: str
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        """Number of rejected entries."""
        return len(self.rejections)

    @property
    def rate(self) -> float:
        """Entries processed per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def rejection_reasons(self) -> list[tuple[str, int]]:
        """Rejections grouped by the kind of reason (text before the first colon), most frequent first."""
        kinds = Counter(r.reason.split(":")[0].split("(")[0].strip() for r in self.rejections)
        return kinds.most_common()


def import_dataset(
    engine: Engine,
    stream: DatasetStream,
    *,
    batch_size: int = 500,
    min_distance: float = 0.5,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Store every valid structure of ``stream`` in the database.

    Each entry is read, checked (parse errors and structures with atoms closer than
    ``min_distance`` Å become rejections; the import carries on past them) and stored
    with :func:`mfdisco.db.add_structures`, one transaction per batch, so a failure
    leaves earlier batches stored and nothing of the failing batch.

    Args:
        engine: the database.
        stream: the dataset.
        batch_size: entries per transaction.
        min_distance: smallest accepted interatomic distance (Å).
        on_progress: called with the number of entries just processed.
    """
    report = ImportReport(stream.name)
    start = time.perf_counter()
    for batch in _batches(screen_structures(stream.items, min_distance), batch_size):
        records = [item for item in batch if isinstance(item, CrystalRecord)]
        rejections = [item for item in batch if isinstance(item, Rejection)]
        for rejection in rejections:
            logger.debug("rejected %s", rejection)
        if records:
            result = add_structures(
                engine, [NewStructure(r.crystal, r.source, r.source_id, r.properties) for r in records]
            )
            report.inserted += result.n_inserted
            report.duplicates += result.n_duplicates
        report.rejections.extend(rejections)
        report.read += len(batch)
        if on_progress is not None:
            on_progress(len(batch))
    report.seconds = time.perf_counter() - start
    logger.info(
        "%s: %d read, %d new, %d duplicates, %d rejected in %.1f s",
        report.source, report.read, report.inserted, report.duplicates, report.rejected, report.seconds,
    )
    return report


def _batches(items: Iterable[CrystalRecord | Rejection], size: int) -> Iterator[list[CrystalRecord | Rejection]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
