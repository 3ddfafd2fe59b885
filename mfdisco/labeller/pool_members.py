"""The reference pool's members: a fixed, seeded set of >= 200 small crystals.

Members (2-6 atoms, deduplicated by canonical hash), from the built-in prototypes of the
default element list:
    elemental references (fcc, bcc, hcp metals; the O2 molecular crystal);
    binary and ternary oxides (rocksalt, cubic perovskite, fluorite, rutile);
    polymorphs of the alkaline-earth monoxides: cesium chloride (B2, 8-fold) for Mg, Ca,
    Sr, Ba and zincblende (B3, 4-fold) where Shannon has the 4-fold radius (Mg), with
    d(A-O) the sum of the Shannon radii at that coordination. Rocksalt is their ground
    state, so they put competing, unstable structures of one composition in the pool
    (a test of the hull; the ``kpoint-sc4`` CCSD(T) of the B2 cells is not comparable
    with the rocksalts', see :mod:`mfdisco.labeller.presets`);
    perturbed variants of each oxide (random displacements sigma = 0.05 Å, random
    strain up to 2 %), two per oxide and three per rocksalt;
    substituted variants: ordered rocksalt A B O2 (4 atoms, cations in alternate (001)
    layers) for pairs of divalent cations, and ordered rutile A B O4 (6 atoms) for pairs
    of tetravalent ones.
A seeded subset of >= 60 (every binary oxide and the elements they need first) is also
labelled at SCAN and HSE06. ``benchmarks/pool/build_pool.py`` labels them; the
labels are read back with :mod:`mfdisco.labeller.pool_file`.
"""

from __future__ import annotations

import fnmatch
from itertools import combinations

import numpy as np

from mfdisco.core import Crystal
from mfdisco.generator.datasets import builtin_prototypes, prototypes, shannon_radius
from mfdisco.labeller.references import reference_settings
from mfdisco.labeller.settings import LabelSettings

__all__ = ["SEED", "SUBSET_SIZE", "pool_members", "monoxide_polymorphs", "perturbed", "ordered_rocksalt", "ordered_rutile", "member_settings", "matching_members"]

SEED = 20261122
SUBSET_SIZE = 64
_OXIDES = ("rocksalt", "perovskite", "fluorite", "rutile")
_DIVALENT = ("Mg", "Ca", "Sr", "Ba", "Mn", "Fe", "Co", "Ni", "Zn")
_TETRAVALENT = ("Ti", "V", "Cr", "Mn", "Co", "Ni")
_POLYMORPH_CATIONS = ("Mg", "Ca", "Sr", "Ba")
#: name, builder (cation, anion, bond in Å) and the Shannon coordination of cation and O.
_POLYMORPHS = (("cesium-chloride", prototypes.cesium_chloride, "VIII"), ("zincblende", prototypes.zincblende, "IV"))


def pool_members() -> list[tuple[str, Crystal, bool]]:
    """(name, crystal, in the high-fidelity subset) for every member, deterministic."""
    rng = np.random.default_rng(SEED)
    records = {r.source_id: r for r in builtin_prototypes()}
    members: list[tuple[str, Crystal]] = []
    for source_id, record in records.items():
        prototype = record.properties["prototype"]
        if prototype in ("fcc", "bcc", "hcp", "molecular") or (prototype in _OXIDES and record.crystal.num_sites <= 6):
            members.append((source_id, record.crystal))
    oxides = [(n, c) for n, c in members if n.split(":")[0] in _OXIDES]
    for name, crystal in oxides:
        for k in range(3 if name.startswith("rocksalt:") else 2):
            members.append((f"perturbed{k}:{name}", perturbed(crystal, rng)))
    rocksalts = {n.split(":")[1][:-1]: c for n, c in oxides if n.startswith("rocksalt:")}
    for a, b in combinations([e for e in _DIVALENT if e in rocksalts], 2):
        members.append((f"ordered-rocksalt:{a}{b}O2", ordered_rocksalt(rocksalts[a], rocksalts[b], a, b)))
    rutiles = {n.split(":")[1][:-2]: c for n, c in oxides if n.startswith("rutile:")}
    for a, b in combinations([e for e in _TETRAVALENT if e in rutiles], 2):
        members.append((f"ordered-rutile:{a}{b}O4", ordered_rutile(rutiles[a], rutiles[b], b)))
    unique: dict[str, tuple[str, Crystal]] = {}
    for name, crystal in members:
        unique.setdefault(crystal.canonical_hash(), (name, crystal))
    ordered = list(unique.values())
    subset = _high_fidelity_subset([n for n, _ in ordered], rng)
    polymorphs = [(n, c) for n, c in monoxide_polymorphs() if c.canonical_hash() not in unique]  # after the seeded draws: they move no other member
    return [(name, crystal, name in subset) for name, crystal in ordered] + [(n, c, False) for n, c in polymorphs]


def monoxide_polymorphs() -> list[tuple[str, Crystal]]:
    """Cesium-chloride and zincblende AO for the alkaline earths that have the Shannon radii.

    d(A-O) = r(A²⁺) + r(O²⁻) at the polymorph's coordination (8 or 4), as the built-in
    rocksalts use the 6-fold radii: B2 MgO gets 2.31 Å against rocksalt's 2.12.
    """
    found = []
    for prototype, build, coordination in _POLYMORPHS:
        for cation in _POLYMORPH_CATIONS:
            radii = shannon_radius(cation, 2, coordination), shannon_radius("O", -2, coordination)
            if None not in radii:
                found.append((f"{prototype}:{cation}O", build(cation, "O", sum(radii))))
    return found


def perturbed(crystal: Crystal, rng: np.random.Generator) -> Crystal:
    strain = np.eye(3) + np.triu(rng.uniform(-0.02, 0.02, (3, 3)))
    lattice = crystal.lattice @ strain
    cart = crystal.frac_coords @ lattice + rng.normal(0.0, 0.05, (crystal.num_sites, 3))
    return Crystal(lattice, cart @ np.linalg.inv(lattice), crystal.atomic_numbers)


def ordered_rocksalt(first: Crystal, second: Crystal, a: str, b: str) -> Crystal:
    """A and B in alternate (001) layers of rocksalt: 4-atom tetragonal cell at the mean cubic a.

    Cell a1 = (a/2, a/2, 0), a2 = (a/2, -a/2, 0), a3 = (0, 0, a); A (0, 0, 0), B (½, ½, ½),
    O (½, ½, 0) and (0, 0, ½) in fractional coordinates.
    """
    cubic = np.mean([(4.0 * c.volume / c.num_sites * 2) ** (1 / 3) for c in (first, second)])
    lattice = np.array([[cubic / 2, cubic / 2, 0.0], [cubic / 2, -cubic / 2, 0.0], [0.0, 0.0, cubic]])
    frac = [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0, 0, 0.5]]
    return Crystal.from_species(lattice, [a, b, "O", "O"], frac)


def ordered_rutile(first: Crystal, second: Crystal, b: str) -> Crystal:
    """The rutile of A with its body-centre cation replaced by B, lattice at the mean volume."""
    scale = (second.volume / first.volume) ** (1 / 6)
    species = list(first.species)
    species[1] = b
    return Crystal.from_species(np.array(first.lattice) * scale, species, first.frac_coords)


def member_settings(crystal: Crystal, base: LabelSettings | None = None) -> LabelSettings:
    """The settings a member is labelled with: the reference settings for an element, else ``base``."""
    base = base or LabelSettings()
    elements = set(crystal.species)
    return reference_settings(elements.pop(), base) if len(elements) == 1 else base


def matching_members(members: list[tuple[str, Crystal, bool]], patterns: list[str] | None) -> list[tuple[str, Crystal, bool]]:
    """The members whose name matches one of the shell-style ``patterns`` (all when there are none).

    Raises:
        ValueError: a pattern that matches no member, naming it (a typo would otherwise label nothing).
    """
    if not patterns:
        return members
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(name, p) for name, _, _ in members)]
    if unmatched:
        raise ValueError(f"--members: {', '.join(map(repr, unmatched))} match no pool member (names look like 'rocksalt:MgO', 'perturbed0:rocksalt:MgO')")
    return [m for m in members if any(fnmatch.fnmatchcase(m[0], p) for p in patterns)]


def _high_fidelity_subset(names: list[str], rng: np.random.Generator) -> set[str]:
    """Binary oxides, the elements they need and O2 first, then a seeded draw up to SUBSET_SIZE."""
    chosen = [n for n in names if n.split(":")[0] in ("rocksalt", "fluorite", "rutile")]
    elements = {n.split(":")[1].rstrip("O0123456789") for n in chosen}
    chosen += [n for n in names if n.split(":")[0] in ("fcc", "bcc", "hcp") and n.split(":")[1] in elements]
    chosen += [n for n in names if n.startswith("molecular:")]
    rest = [n for n in names if n not in chosen]
    chosen += [str(n) for n in rng.choice(rest, size=max(0, SUBSET_SIZE - len(chosen)), replace=False)]
    return set(chosen)
