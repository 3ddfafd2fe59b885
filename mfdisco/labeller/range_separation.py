"""Short-range exact exchange of screened hybrids (HSE06) as full range minus long range.

HSE06 keeps a quarter of the exact exchange with the short-range Coulomb operator
erfc(ωr)/r, ω = 0.11 Bohr⁻¹. PySCF evaluates that operator with Gaussian density
fitting by building a second set of three-centre integrals over erfc(ωr)/r. With
ω = 0.11 Bohr⁻¹ the operator still reaches some 50 Bohr, so the real-space lattice sums
of that build dominate the whole label: 96 s of the 115 s SCF of a one-atom fcc Mg
cell, where the plain integrals take 3 s.

Since erfc(ωr)/r = 1/r − erf(ωr)/r, the same matrix is

    K_SR[D] = K[D] − K_LR[D]

with K from the density-fitting integrals the SCF builds anyway (for J) and K_LR from
plane waves: erf(ωr)/r is smooth, its Fourier transform 4π/G² exp(−G²/4ω²) needs only
a coarse mesh (PySCF's own choice for long-range exchange). The G = 0 (exxdiv)
corrections of the two terms are the Madelung constants of 1/r and erf(ωr)/r, whose
difference is PySCF's short-range one, so the identity holds with them too. Measured at
Γ (``gamma`` preset, one thread): fcc Mg 115 → 15 s, fcc Ca 309 → 23 s per label, and
total energies equal to 1e-9 Ha per cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mfdisco.labeller.settings import LabelSettings

__all__ = [
    "with_split_short_range_exchange", "splits_short_range_exchange", "short_range_exchange_detail",
    "asks_short_range_exchange", "SPLIT_DESCRIPTION", "ATTENUATED_DESCRIPTION",
]

#: Recorded in a label's details: how its short-range exact exchange was evaluated.
SPLIT_DESCRIPTION = "K_SR = K (density fitting) − K_LR (plane waves, erf(ωr)/r)"
ATTENUATED_DESCRIPTION = "erfc-attenuated density fitting (PySCF)"


def _gaussian_density_fit(settings: LabelSettings) -> bool:
    return settings.density_fit in ("gdf", "rsgdf")


def splits_short_range_exchange(settings: LabelSettings) -> bool:
    """Whether the mean field of ``settings`` gets :func:`with_split_short_range_exchange` (Gaussian density fitting, ``split``)."""
    return _gaussian_density_fit(settings) and settings.short_range_exchange == "split"


def short_range_exchange_detail(settings: LabelSettings, xc: str) -> str | None:
    """What a label of functional ``xc`` records about its short-range exchange; None when it has none to record.

    Only screened hybrids with Gaussian density fitting have a choice: with FFT density
    fitting PySCF applies the erfc kernel on the mesh directly.
    """
    if not _gaussian_density_fit(settings) or not asks_short_range_exchange(xc):
        return None
    return SPLIT_DESCRIPTION if splits_short_range_exchange(settings) else ATTENUATED_DESCRIPTION


def asks_short_range_exchange(xc: str) -> bool:
    """Whether PySCF's KS code asks for short-range-only exact exchange for ``xc`` (HSE-type screened hybrids).

    PySCF's periodic KS requests ``get_k(omega=-ω)`` only for a range-separated hybrid
    without long-range exact exchange; other hybrids (PBE0, CAM-type) combine full-range
    and long-range K.
    """
    from pyscf.dft import numint

    omega, long_range, short_range = numint.NumInt().rsh_and_hybrid_coeff(xc)
    return omega != 0 and long_range == 0 and short_range != 0


def with_split_short_range_exchange(mf: Any) -> Any:  # noqa: ANN401 - a PySCF periodic KS object
    """Make ``mf`` evaluate short-range exact exchange as full-range minus long-range; return it.

    PySCF asks a KS object for short-range exchange with ``get_k(..., omega=-ω)`` (negative
    ω: the erfc operator). That call is answered here by two cheaper ones; every other call
    (full range, long range ``omega=+ω``) is passed through. Works for Γ (``RKS``/``UKS``)
    and k-point (``KRKS``/``KUKS``) objects, whose ``get_k`` take the same positional
    arguments.
    """
    full_or_attenuated = mf.get_k

    def get_k(cell=None, dm=None, hermi=1, kpt=None, kpts_band=None, omega=None):  # noqa: ANN001, ANN202 - PySCF's signature
        if omega is None or omega >= 0:
            return full_or_attenuated(cell, dm, hermi, kpt, kpts_band, omega=omega)
        full = full_or_attenuated(cell, dm, hermi, kpt, kpts_band)
        long_range = full_or_attenuated(cell, dm, hermi, kpt, kpts_band, omega=-omega)
        return full - long_range

    mf.get_k = get_k
    return mf
