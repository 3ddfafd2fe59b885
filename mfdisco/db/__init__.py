"""The SQL store: the only folder that knows SQL. Others call the functions exported here."""

from mfdisco.db.calculations import calculation_to_label, done_labels, find_calculation, record_label
from mfdisco.db.engine import (
    DEFAULT_DB_URL,
    DatabaseURLError,
    make_engine,
    normalise_url,
    read_session,
    sqlite_path,
    write_session,
)
from mfdisco.db.migrate import current_revision, downgrade, head_revision, upgrade
from mfdisco.db.models import (
    CALCULATION_STATUSES,
    Base,
    Calculation,
    Campaign,
    Candidate,
    Cycle,
    HullDistance,
    Model,
    Structure,
)
from mfdisco.db.trained_models import add_model, latest_model
from mfdisco.db.readonly import (
    QueryError,
    QueryResult,
    ReadOnlyViolation,
    check_read_only,
    query_view,
    run_read_only,
)
from mfdisco.db.structures import (
    AddResult,
    NewStructure,
    add_structures,
    count_structures,
    get_structure,
    structure_counts,
    structure_to_crystal,
)
from mfdisco.db.views import VIEWS

__all__ = [
    "add_model",
    "done_labels",
    "latest_model",
    "CALCULATION_STATUSES",
    "DEFAULT_DB_URL",
    "VIEWS",
    "AddResult",
    "Base",
    "Calculation",
    "Campaign",
    "Candidate",
    "Cycle",
    "DatabaseURLError",
    "HullDistance",
    "Model",
    "NewStructure",
    "QueryError",
    "QueryResult",
    "ReadOnlyViolation",
    "Structure",
    "add_structures",
    "calculation_to_label",
    "check_read_only",
    "count_structures",
    "current_revision",
    "downgrade",
    "find_calculation",
    "get_structure",
    "head_revision",
    "make_engine",
    "normalise_url",
    "query_view",
    "read_session",
    "record_label",
    "run_read_only",
    "sqlite_path",
    "structure_counts",
    "structure_to_crystal",
    "upgrade",
    "write_session",
]
