"""Multi-fidelity equivariant potential (mace-torch), training, ensembles, calibration, ASE calculator.

Built by the validator issue; the ``Potential`` protocol of DESIGN.md is its contract.
"""

__all__: list[str] = []
