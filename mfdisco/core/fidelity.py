"""Levels of theory (fidelities) known to mfdisco, ordered from cheapest to best."""

from __future__ import annotations

from enum import Enum

__all__ = ["Fidelity"]


class Fidelity(str, Enum):
    """A level of theory for a label or a prediction.

    Members are ordered from the cheapest, least accurate (``pbe``) to the reference
    (``ccsd_t``); :meth:`rank` gives that order. The string value is what the database
    and the config files store.

    Attributes:
        PBE: semi-local GGA density functional (Perdew-Burke-Ernzerhof).
        SCAN: meta-GGA (SCAN or r2SCAN; the labeller records which).
        HSE06: screened hybrid functional (25 % short-range exact exchange, ω = 0.11 a₀⁻¹).
        CCSD_T: coupled cluster with singles, doubles and perturbative triples on a
            Hartree-Fock reference.
    """

    PBE = "pbe"
    SCAN = "scan"
    HSE06 = "hse06"
    CCSD_T = "ccsd_t"

    @property
    def rank(self) -> int:
        """Position in the cheap-to-accurate order (0 for PBE, 3 for CCSD(T))."""
        return _ORDER.index(self)

    @classmethod
    def parse(cls, value: str | Fidelity) -> Fidelity:
        """Return the fidelity named by ``value``.

        Accepts the stored value (``"ccsd_t"``) and the usual spellings
        (``"CCSD(T)"``, ``"HSE"``), case-insensitively.

        Raises:
            ValueError: naming the value and the accepted names.
        """
        if isinstance(value, Fidelity):
            return value
        key = str(value).strip().lower().replace("(", "_").replace(")", "").replace("-", "_")
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(f.value for f in cls)
            raise ValueError(f"unknown fidelity {value!r}; expected one of: {names}") from None

    def __str__(self) -> str:
        return self.value


_ORDER: tuple[Fidelity, ...] = (Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06, Fidelity.CCSD_T)
_ALIASES: dict[str, str] = {
    "hse": "hse06",
    "r2scan": "scan",
    "ccsd_t_": "ccsd_t",
    "ccsdt": "ccsd_t",
}
