"""The quantum condition vector from PBE descriptors."""

from __future__ import annotations

import pytest

from mfdisco.generator.conditioning import quantum_vector

NAMES = ["q_gap_ev", "q_dos_fermi", "q_elf_mean", "q_screening"]


def test_insulator_and_metal() -> None:
    insulator = {"band_gap_ev": 4.5, "metallic": False, "dos_at_fermi": 0.0, "elf_mean": 0.6, "dielectric_ipa": 4.0}
    assert quantum_vector(insulator, NAMES) == pytest.approx([4.5, 0.0, 0.6, 0.75])
    metal = {"band_gap_ev": 0.0, "metallic": True, "dos_at_fermi": 1.2, "elf_mean": 0.3, "dielectric_ipa": None}
    assert quantum_vector(metal, NAMES) == pytest.approx([0.0, 1.2, 0.3, 1.0])


def test_missing_component_gives_none_and_unknown_name_raises() -> None:
    assert quantum_vector({"band_gap_ev": 1.0}, NAMES) is None
    assert quantum_vector(None, NAMES) is None
    with pytest.raises(KeyError, match="q_colour"):
        quantum_vector({"band_gap_ev": 1.0}, ["q_colour"])
