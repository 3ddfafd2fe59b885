"""campaign_summary: labels pending and running counted apart, and the last cycle's step.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CAMPAIGN_SUMMARY = """
CREATE VIEW campaign_summary AS
SELECT
    cp.id AS campaign_id,
    cp.name AS campaign,
    cp.status,
    cp.created_at,
    cp.finished_at,
    (SELECT COUNT(*) FROM cycles y WHERE y.campaign_id = cp.id) AS cycles,
    (SELECT MAX(y.number) FROM cycles y WHERE y.campaign_id = cp.id) AS last_cycle,
    (SELECT y.status FROM cycles y WHERE y.campaign_id = cp.id
        ORDER BY y.number DESC LIMIT 1) AS last_cycle_step,
    (SELECT COUNT(*) FROM candidates c JOIN cycles y ON y.id = c.cycle_id
        WHERE y.campaign_id = cp.id) AS candidates,
    (SELECT COUNT(*) FROM candidates c JOIN cycles y ON y.id = c.cycle_id
        WHERE y.campaign_id = cp.id AND c.selected = TRUE) AS selected,
    (SELECT COUNT(*) FROM calculations k WHERE k.campaign_id = cp.id AND k.status = 'done') AS labels_done,
    (SELECT COUNT(*) FROM calculations k
        WHERE k.campaign_id = cp.id AND k.status IN ('failed', 'refused')) AS labels_failed,
    (SELECT COUNT(*) FROM calculations k WHERE k.campaign_id = cp.id AND k.status = 'pending') AS labels_pending,
    (SELECT COUNT(*) FROM calculations k WHERE k.campaign_id = cp.id AND k.status = 'running') AS labels_running,
    (SELECT COUNT(*) FROM calculations k
        WHERE k.campaign_id = cp.id AND k.fidelity = 'ccsd_t' AND k.status = 'done') AS ccsd_t_done,
    (SELECT COUNT(*) FROM discovered_candidates d WHERE d.campaign_id = cp.id) AS discoveries,
    1.0 * (SELECT COUNT(*) FROM discovered_candidates d WHERE d.campaign_id = cp.id)
        / NULLIF((SELECT COUNT(*) FROM candidates c JOIN cycles y ON y.id = c.cycle_id
                  WHERE y.campaign_id = cp.id AND c.selected = TRUE), 0) AS hit_rate,
    1.0 * (SELECT COUNT(*) FROM discovered_candidates d WHERE d.campaign_id = cp.id)
        / NULLIF((SELECT COUNT(*) FROM calculations k
                  WHERE k.campaign_id = cp.id AND k.fidelity = 'ccsd_t' AND k.status = 'done'), 0)
        AS discoveries_per_ccsd_t
FROM campaigns cp
"""


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS campaign_summary")
    op.execute(CAMPAIGN_SUMMARY)


def downgrade() -> None:
    previous = importlib.import_module("mfdisco.db.migrations.versions.0001_initial_schema")
    op.execute("DROP VIEW IF EXISTS campaign_summary")
    op.execute(previous.CAMPAIGN_SUMMARY)
