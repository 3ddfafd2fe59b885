"""Saving and loading ensembles; recording them in the ``models`` table.

A checkpoint is one ``torch.save`` file holding only tensors and plain Python values
(the configuration as JSON, each member's constructor arguments and state dict, the
recalibrations, the training-set hash and the metrics), so it loads with
``torch.load(weights_only=True)``: no pickled code runs on load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from mfdisco.core.plugins import read_checkpoint, write_checkpoint
from mfdisco.db import add_model
from mfdisco.validator.recalibration import recalibration_from_dict
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.ensemble import MaceEnsemble
from mfdisco.validator.model import MultiFidelityMACE

__all__ = ["CHECKPOINT_FORMAT", "save_ensemble", "load_ensemble", "record_model", "MODEL_KIND", "BACKEND"]

CHECKPOINT_FORMAT = "mfdisco-validator-ensemble/1"
MODEL_KIND = "validator"
BACKEND = "mace"


def save_ensemble(ensemble: MaceEnsemble, path: str | Path) -> Path:
    """Write ``ensemble`` to ``path`` (atomically: a partial file never replaces a good one)."""
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "config": ensemble.config.model_dump_json(),
        "members": [{"init": json.dumps(m.init_arguments), "state": m.state_dict()} for m in ensemble.members],
        "recalibration": json.dumps({f: r.to_dict() for f, r in ensemble.recalibration.items()}),
        "training_set_hash": ensemble.training_set_hash,
        "training_set_size": ensemble.training_set_size,
        "metrics": json.dumps(ensemble.metrics),
    }
    return write_checkpoint(payload, path)


def load_ensemble(path: str | Path) -> MaceEnsemble:
    """Read an ensemble written by :func:`save_ensemble` (``weights_only`` loading).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not an mfdisco validator checkpoint.
    """
    payload = read_checkpoint(path, CHECKPOINT_FORMAT, "validator")
    config = PotentialConfig.model_validate_json(payload["config"])
    members = []
    for entry in payload["members"]:
        init = json.loads(entry["init"])
        model = MultiFidelityMACE(config, init["elements"], init["atomic_energies"], init["scale"], init["shift"], init["avg_num_neighbors"], init["trained_fidelities"])
        model.load_state_dict(entry["state"])
        model.eval()
        members.append(model)
    return MaceEnsemble(
        config=config,
        members=members,
        recalibration={f: recalibration_from_dict(d) for f, d in json.loads(payload["recalibration"]).items()},
        training_set_hash=payload["training_set_hash"],
        training_set_size=int(payload["training_set_size"]),
        metrics=json.loads(payload["metrics"]),
    )


def record_model(engine: Engine, ensemble: MaceEnsemble, path: str | Path, campaign_id: int | None = None, cycle_id: int | None = None) -> int:
    """Add a ``models`` row (kind ``validator``, next version) for a saved checkpoint; returns its id."""
    row_id, _ = add_model(
        engine,
        kind=MODEL_KIND,
        backend=BACKEND,
        path=str(Path(path).resolve()),
        config=json.loads(ensemble.config.model_dump_json()),
        metrics=ensemble.metrics,
        training_set_size=ensemble.training_set_size,
        training_set_hash=ensemble.training_set_hash,
        campaign_id=campaign_id,
        cycle_id=cycle_id,
    )
    return row_id
