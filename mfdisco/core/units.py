"""Physical unit constants, in one place.

Internal units of mfdisco: energies in eV (totals) and eV/atom, lengths in Å,
forces in eV/Å, stresses in eV/Å³. PySCF works in Hartree and Bohr; convert at the
boundary with the constants below. Hartree and Bohr are PySCF's own values
(``pyscf.data.nist``), so a conversion of a PySCF result is the exact inverse of PySCF's;
they agree with ASE's CODATA 2014 constants to 1e-8 (0.02 meV on a 79 Ha total energy).
"""

from __future__ import annotations

__all__ = [
    "HARTREE_TO_EV",
    "EV_TO_HARTREE",
    "BOHR_TO_ANGSTROM",
    "ANGSTROM_TO_BOHR",
    "KCAL_PER_MOL_TO_EV",
    "EV_TO_MEV",
    "AMU_PER_A3_TO_G_PER_CM3",
]

#: 1 Hartree in eV (PySCF's value).
HARTREE_TO_EV: float = 27.21138602
#: 1 eV in Hartree.
EV_TO_HARTREE: float = 1.0 / HARTREE_TO_EV
#: 1 Bohr radius in Å (PySCF's value).
BOHR_TO_ANGSTROM: float = 0.52917721092
#: 1 Å in Bohr.
ANGSTROM_TO_BOHR: float = 1.0 / BOHR_TO_ANGSTROM
#: 1 kcal/mol (per particle) in eV: 4184 J / N_A / e.
KCAL_PER_MOL_TO_EV: float = 4184.0 / 6.02214076e23 / 1.602176634e-19
#: eV to meV.
EV_TO_MEV: float = 1000.0
#: Density conversion: (atomic mass units per Å³) to g/cm³, i.e. 1.66053906660e-24 g / 1e-24 cm³.
AMU_PER_A3_TO_G_PER_CM3: float = 1.66053906660
