"""PySCF labelling at PBE / SCAN / HSE06 / CCSD(T), quantum descriptors, elemental references.

Built by the labeller issue; the ``Labeller`` protocol of DESIGN.md is its contract.
"""

__all__: list[str] = []
