"""Training samples: an atomic configuration, its fidelity and its labels.

A sample is a periodic crystal (from a :class:`Crystal` and a PySCF :class:`Label`) or
an isolated molecule (rMD17). Energies are totals per cell or molecule in eV, forces in
eV/Å; the loss works per atom.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mfdisco.core import KCAL_PER_MOL_TO_EV, Crystal, Fidelity, Label

__all__ = ["Sample", "samples_from_labels", "load_rmd17", "training_set_hash", "split_by_structure"]


@dataclass(frozen=True)
class Sample:
    """One labelled (or, for prediction, unlabelled) configuration.

    Attributes:
        atomic_numbers: [n_atoms] atomic numbers Z.
        positions: [n_atoms, 3] Cartesian positions (Å).
        cell: [3, 3] lattice vectors as rows (Å), or None for an isolated molecule.
        fidelity: level of theory of the labels.
        energy_ev: total energy of the cell or molecule (eV), None when unlabelled.
        forces_ev_per_a: [n_atoms, 3] forces (eV/Å), None where the label has none.
        weight: per-sample weight in the loss.
        key: the structure's identity for splits (canonical hash, or file:frame for rMD17);
            empty for unlabelled samples.
    """

    atomic_numbers: np.ndarray
    positions: np.ndarray
    cell: np.ndarray | None
    fidelity: Fidelity
    energy_ev: float | None = None
    forces_ev_per_a: np.ndarray | None = None
    weight: float = 1.0
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        n_atoms = len(self.atomic_numbers)
        if n_atoms == 0:
            raise ValueError("sample has no atoms")
        if np.shape(self.positions) != (n_atoms, 3) or not np.all(np.isfinite(self.positions)):
            raise ValueError(f"sample positions must be finite with shape ({n_atoms}, 3), got {np.shape(self.positions)}")
        if self.cell is not None and (np.shape(self.cell) != (3, 3) or abs(np.linalg.det(self.cell)) < 1e-6):
            raise ValueError("sample cell must be a non-singular 3x3 matrix (Å) or None for a molecule")
        if self.energy_ev is not None and not np.isfinite(self.energy_ev):
            raise ValueError(f"sample energy_ev must be finite, got {self.energy_ev}")
        if self.forces_ev_per_a is not None and (
            np.shape(self.forces_ev_per_a) != (n_atoms, 3) or not np.all(np.isfinite(self.forces_ev_per_a))
        ):
            raise ValueError(f"sample forces must be finite with shape ({n_atoms}, 3)")
        if not self.weight >= 0:
            raise ValueError(f"sample weight must be >= 0, got {self.weight}")

    @property
    def num_atoms(self) -> int:
        return len(self.atomic_numbers)

    @property
    def periodic(self) -> bool:
        return self.cell is not None

    @classmethod
    def from_crystal(
        cls, crystal: Crystal, fidelity: Fidelity | str, energy_ev: float | None = None, forces_ev_per_a: np.ndarray | None = None
    ) -> Sample:
        """A periodic sample of ``crystal`` (labels optional, for prediction).

        A labelled sample is keyed by the crystal's canonical hash (train/validation splits
        group the labels of one structure by it); an unlabelled one, built on the
        prediction path for thousands of candidates, skips the 2 ms hash.
        """
        return cls(
            atomic_numbers=np.asarray(crystal.atomic_numbers, dtype=np.int64),
            positions=np.asarray(crystal.cart_coords, dtype=float),
            cell=np.asarray(crystal.lattice, dtype=float),
            fidelity=Fidelity.parse(fidelity),
            energy_ev=energy_ev,
            forces_ev_per_a=None if forces_ev_per_a is None else np.asarray(forces_ev_per_a, dtype=float),
            key="" if energy_ev is None else crystal.canonical_hash(),
        )


def samples_from_labels(pairs: Iterable[tuple[Crystal, Label]]) -> list[Sample]:
    """Samples of the finished labels among ``(crystal, label)`` pairs (failed ones skipped)."""
    samples = []
    for crystal, label in pairs:
        if label.status != "done" or label.energy_ev is None:
            continue
        forces = None if label.forces_ev_per_a is None else np.asarray(label.forces_ev_per_a, dtype=float)
        samples.append(Sample.from_crystal(crystal, label.fidelity, label.energy_ev, forces))
    return samples


def load_rmd17(path: str | Path, indices: Sequence[int] | slice | None = None) -> list[Sample]:
    """Frames of a revised-MD17 NPZ file as molecular samples (PBE/def2-SVP reference).

    The file holds ``nuclear_charges (N,)``, ``coords (F, N, 3)`` in Å, ``energies (F,)``
    in kcal/mol and ``forces (F, N, 3)`` in kcal/mol/Å; energies and forces are
    converted to eV and eV/Å.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a key is missing or the shapes disagree.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"rMD17 file not found: {path}")
    with np.load(path) as data:
        missing = {"nuclear_charges", "coords", "energies", "forces"} - set(data.files)
        if missing:
            raise ValueError(f"{path}: not an rMD17 file, missing {sorted(missing)}")
        numbers, coords, energies, forces = (data[k] for k in ("nuclear_charges", "coords", "energies", "forces"))
    if coords.shape[1:] != (len(numbers), 3) or forces.shape != coords.shape or energies.shape != coords.shape[:1]:
        raise ValueError(f"{path}: inconsistent shapes coords {coords.shape}, forces {forces.shape}, energies {energies.shape}")
    frames = range(len(energies))[indices] if indices is not None else range(len(energies))
    return [
        Sample(
            atomic_numbers=numbers.astype(np.int64),
            positions=coords[i].astype(float),
            cell=None,
            fidelity=Fidelity.PBE,
            energy_ev=float(energies[i]) * KCAL_PER_MOL_TO_EV,
            forces_ev_per_a=forces[i].astype(float) * KCAL_PER_MOL_TO_EV,
            key=f"{path.name}:{i}",
        )
        for i in frames
    ]


def training_set_hash(samples: Sequence[Sample]) -> str:
    """SHA-256 over every sample's numbers, positions, cell, fidelity and labels (order-independent)."""
    digests = []
    for sample in samples:
        h = hashlib.sha256()
        for array in (sample.atomic_numbers, sample.positions, sample.cell, sample.forces_ev_per_a):
            h.update(b"-" if array is None else np.round(np.asarray(array, dtype=float), 8).tobytes())
        h.update(f"{sample.fidelity.value}:{sample.energy_ev!r}:{sample.weight!r}".encode())
        digests.append(h.hexdigest())
    return hashlib.sha256("".join(sorted(digests)).encode()).hexdigest()


def split_by_structure(samples: Sequence[Sample], valid_fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Seeded split of samples into (train, valid) by structure (``key``), so the labels of one
    structure at several fidelities never straddle the split."""
    keys = sorted({s.key for s in samples})
    rng = np.random.default_rng(seed)
    held_out = set(rng.choice(keys, size=int(round(valid_fraction * len(keys))), replace=False)) if keys else set()
    return [s for s in samples if s.key not in held_out], [s for s in samples if s.key in held_out]
