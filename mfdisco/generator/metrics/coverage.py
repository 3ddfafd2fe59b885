"""Coverage of the reference set by generated structures: COV-R and COV-P (CDVAE's definitions).

Fingerprints, as in CDVAE:

* structure: the CrystalNN order-parameter fingerprint (``CrystalNNFingerprint`` preset
  ``ops``) of every site, averaged over the sites;
* composition: the Magpie element-property statistics (``ElementProperty`` preset
  ``magpie``), standardised per component (CDVAE uses fixed scalers fitted on its training
  data; here the mean and standard deviation of the reference set).

With Euclidean distances d_s (structure) and d_c (composition) between generated and
reference fingerprints:

* COV-R (recall) = share of references whose nearest generated structure is within the
  structure cutoff and whose nearest generated composition is within the composition cutoff;
* COV-P (precision) = share of generated structures whose nearest reference is within both
  cutoffs, over all generated structures (those without a fingerprint count as misses).

Cutoffs (structure, composition): Perov-5 and Carbon-24 (0.2, 4), MP-20 (0.4, 10).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mfdisco.core import Crystal

__all__ = ["Coverage", "COVERAGE_CUTOFFS", "fingerprints", "coverage"]

logger = logging.getLogger(__name__)

COVERAGE_CUTOFFS: dict[str, tuple[float, float]] = {"perov_5": (0.2, 4.0), "carbon_24": (0.2, 4.0), "mp_20": (0.4, 10.0)}


@dataclass(frozen=True)
class Coverage:
    """COV-R and COV-P (fractions) and the cutoffs used."""

    recall: float
    precision: float
    structure_cutoff: float
    composition_cutoff: float


def fingerprints(crystals: Sequence[Crystal]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(structure [n, 61], composition [n, 132], ok [n]) fingerprints; ``ok`` is False where CrystalNN failed."""
    from matminer.featurizers.composition.composite import ElementProperty
    from matminer.featurizers.site.fingerprint import CrystalNNFingerprint

    site_featurizer = CrystalNNFingerprint.from_preset("ops")
    composition_featurizer = ElementProperty.from_preset("magpie", impute_nan=True)
    structures, compositions, ok = [], [], []
    for crystal in crystals:
        structure = crystal.to_pymatgen()
        try:
            site_fps = [site_featurizer.featurize(structure, i) for i in range(len(structure))]
            structures.append(np.mean(site_fps, axis=0))
            compositions.append(np.asarray(composition_featurizer.featurize(structure.composition), dtype=float))
            ok.append(True)
        except Exception as error:  # noqa: BLE001 - CrystalNN fails on some generated geometries
            logger.debug("no fingerprint for %s: %s", crystal, error)
            structures.append(np.full(len(site_featurizer.feature_labels()), np.nan))
            compositions.append(np.full(len(composition_featurizer.feature_labels()), np.nan))
            ok.append(False)
    return np.array(structures), np.array(compositions), np.array(ok, dtype=bool)


def coverage(generated: Sequence[Crystal], references: Sequence[Crystal], structure_cutoff: float, composition_cutoff: float) -> Coverage:
    """COV-R and COV-P of ``generated`` against ``references``.

    Raises:
        ValueError: empty sets or non-positive cutoffs.
    """
    from scipy.spatial.distance import cdist

    if not generated or not references:
        raise ValueError("coverage needs non-empty generated and reference sets")
    if structure_cutoff <= 0 or composition_cutoff <= 0:
        raise ValueError(f"coverage cutoffs must be positive, got {structure_cutoff}, {composition_cutoff}")
    gen_struct, gen_comp, gen_ok = fingerprints(generated)
    ref_struct, ref_comp, ref_ok = fingerprints(references)
    mean, std = ref_comp[ref_ok].mean(axis=0), ref_comp[ref_ok].std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    gen_comp, ref_comp = (gen_comp - mean) / std, (ref_comp - mean) / std
    if not gen_ok.any():
        return Coverage(0.0, 0.0, structure_cutoff, composition_cutoff)
    d_struct = cdist(gen_struct[gen_ok], ref_struct[ref_ok])  # [n_gen_ok, n_ref_ok]
    d_comp = cdist(gen_comp[gen_ok], ref_comp[ref_ok])
    recall = np.mean((d_struct.min(axis=0) <= structure_cutoff) & (d_comp.min(axis=0) <= composition_cutoff))
    precision = np.sum((d_struct.min(axis=1) <= structure_cutoff) & (d_comp.min(axis=1) <= composition_cutoff)) / len(generated)
    return Coverage(float(recall * ref_ok.mean()), float(precision), structure_cutoff, composition_cutoff)
