"""Read and write crystals as CIF, POSCAR and extended XYZ, through pymatgen and ASE.

Every error names the file (or the caller's label for a string) and the reason.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from mfdisco.core.crystal import Crystal
from mfdisco.core.errors import InvalidCrystalError, StructureFormatError

__all__ = [
    "StructureFormat",
    "STRUCTURE_FORMATS",
    "detect_format",
    "read_crystals",
    "crystals_from_cif",
    "write_crystal",
    "crystal_to_string",
]

StructureFormat = Literal["cif", "poscar", "extxyz"]
STRUCTURE_FORMATS: tuple[str, ...] = ("cif", "poscar", "extxyz")


def detect_format(path: str | Path) -> StructureFormat | None:
    """Guess the structure format from a file name; None when it is not a structure file.

    ``*.cif`` is CIF; ``*.vasp``, ``*.poscar`` and names starting with POSCAR or
    CONTCAR are POSCAR; ``*.extxyz`` and ``*.xyz`` are extended XYZ.
    """
    name = Path(path).name
    lower = name.lower()
    if lower.endswith(".cif"):
        return "cif"
    if lower.endswith((".vasp", ".poscar")) or name.upper().startswith(("POSCAR", "CONTCAR")):
        return "poscar"
    if lower.endswith((".extxyz", ".xyz")):
        return "extxyz"
    return None


@contextmanager
def _collected_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Capture library warnings (a live list) so that they can be quoted in an error message."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def crystals_from_cif(text: str, where: str = "CIF") -> list[Crystal]:
    """Parse every structure of a CIF string (one per data block).

    Args:
        text: CIF content.
        where: label for error messages (a file name, a CSV row...).

    Raises:
        StructureFormatError: malformed CIF, no structure, disordered or invalid sites.
    """
    from pymatgen.io.cif import CifParser

    if not text or not text.strip():
        raise StructureFormatError(f"{where}: empty CIF")
    with _collected_warnings() as notes:
        try:
            structures = CifParser.from_str(text).parse_structures(primitive=False)
        except Exception as error:  # pymatgen raises bare ValueError/KeyError for malformed CIF
            detail = f"{type(error).__name__}: {error}"
            raise StructureFormatError(f"{where}: malformed CIF ({detail}{_tail(notes)})") from None
    if not structures:
        raise StructureFormatError(f"{where}: malformed CIF, no structure found{_tail(notes)}")
    try:
        return [Crystal.from_pymatgen(s) for s in structures]
    except InvalidCrystalError as error:
        raise StructureFormatError(f"{where}: {error}") from None


def read_crystals(path: str | Path, fmt: StructureFormat | None = None) -> list[Crystal]:
    """Read every crystal stored in one file.

    Args:
        path: CIF (possibly several data blocks), POSCAR/CONTCAR, or extended XYZ
            (possibly several frames).
        fmt: ``"cif"``, ``"poscar"`` or ``"extxyz"``; guessed from the name when None.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        StructureFormatError: unknown format, unreadable or invalid content; the
            message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    if fmt is None:
        raise StructureFormatError(f"{path}: unknown structure format; expected one of {', '.join(STRUCTURE_FORMATS)}")
    if fmt == "cif":
        return crystals_from_cif(path.read_text(errors="replace"), where=str(path))
    try:
        with _collected_warnings() as notes:
            if fmt == "poscar":
                from pymatgen.io.vasp import Poscar

                crystals = [Crystal.from_pymatgen(Poscar.from_file(str(path), check_for_potcar=False).structure)]
            elif fmt == "extxyz":
                from ase.io import read

                crystals = [Crystal.from_ase(atoms) for atoms in read(str(path), index=":", format="extxyz")]
            else:
                raise StructureFormatError(f"{path}: unknown structure format {fmt!r}")
    except (InvalidCrystalError, StructureFormatError) as error:
        raise StructureFormatError(f"{path}: {error}") from None
    except Exception as error:  # the readers raise assorted exceptions for malformed files
        raise StructureFormatError(f"{path}: malformed {fmt} ({type(error).__name__}: {error}{_tail(notes)})") from None
    if not crystals:
        raise StructureFormatError(f"{path}: no structure found")
    return crystals


def crystal_to_string(crystal: Crystal, fmt: StructureFormat = "cif") -> str:
    """Serialize one crystal to CIF, POSCAR or extended XYZ text."""
    if fmt == "cif":
        from pymatgen.io.cif import CifWriter

        return str(CifWriter(crystal.to_pymatgen()))
    if fmt == "poscar":
        from pymatgen.io.vasp import Poscar

        return Poscar(crystal.to_pymatgen()).get_str(significant_figures=12)
    if fmt == "extxyz":
        from ase.io import write

        buffer = io.StringIO()
        write(buffer, crystal.to_ase(), format="extxyz")
        return buffer.getvalue()
    raise StructureFormatError(f"unknown structure format {fmt!r}; expected one of {', '.join(STRUCTURE_FORMATS)}")


def write_crystal(crystal: Crystal, path: str | Path, fmt: StructureFormat | None = None) -> Path:
    """Write one crystal to ``path``; the format is guessed from the name when None."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt is None:
        raise StructureFormatError(f"{path}: cannot tell the format from the name; pass fmt")
    path.write_text(crystal_to_string(crystal, fmt))
    return path


def _tail(notes: list[warnings.WarningMessage]) -> str:
    messages = dict.fromkeys(str(note.message) for note in notes)
    return f"; parser said: {' | '.join(messages)}" if messages else ""
