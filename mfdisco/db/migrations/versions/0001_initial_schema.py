"""Initial schema: tables and views.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22

Tables campaigns, cycles, structures, calculations, candidates, hull_distances,
models; views discovered_candidates and campaign_summary (portable SQL: the same
text runs on SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# Views. Booleans compare with TRUE/FALSE (SQLite >= 3.23 and PostgreSQL both accept them);
# ratios use 1.0 * a / NULLIF(b, 0) so that integer division never truncates.
DISCOVERED_CANDIDATES = """
CREATE VIEW discovered_candidates AS
SELECT
    cp.id AS campaign_id,
    cp.name AS campaign,
    cy.number AS cycle,
    s.id AS structure_id,
    s.formula,
    s.elements,
    s.nsites,
    c.divergence,
    c.uncertainty,
    c.score,
    c.rank,
    c.pred_ef_pbe_ev_per_atom,
    c.pred_ef_ccsd_t_ev_per_atom,
    h_cc.formation_energy_per_atom_ev AS ef_ccsd_t_ev_per_atom,
    h_cc.e_above_hull_per_atom_ev AS e_hull_ccsd_t_ev_per_atom,
    h_pbe.formation_energy_per_atom_ev AS ef_pbe_ev_per_atom,
    h_pbe.e_above_hull_per_atom_ev AS e_hull_pbe_ev_per_atom,
    h_scan.e_above_hull_per_atom_ev AS e_hull_scan_ev_per_atom,
    h_hse.e_above_hull_per_atom_ev AS e_hull_hse06_ev_per_atom,
    CASE
        WHEN h_pbe.e_above_hull_per_atom_ev IS NULL THEN NULL
        WHEN h_pbe.e_above_hull_per_atom_ev > cp.hit_threshold_ev_per_atom THEN TRUE
        ELSE FALSE
    END AS pbe_wrong_call,
    s.canonical_hash
FROM candidates c
JOIN cycles cy ON cy.id = c.cycle_id
JOIN campaigns cp ON cp.id = cy.campaign_id
JOIN structures s ON s.id = c.structure_id
JOIN hull_distances h_cc
    ON h_cc.campaign_id = cp.id AND h_cc.structure_id = s.id AND h_cc.fidelity = 'ccsd_t'
LEFT JOIN hull_distances h_pbe
    ON h_pbe.campaign_id = cp.id AND h_pbe.structure_id = s.id AND h_pbe.fidelity = 'pbe'
LEFT JOIN hull_distances h_scan
    ON h_scan.campaign_id = cp.id AND h_scan.structure_id = s.id AND h_scan.fidelity = 'scan'
LEFT JOIN hull_distances h_hse
    ON h_hse.campaign_id = cp.id AND h_hse.structure_id = s.id AND h_hse.fidelity = 'hse06'
WHERE c.selected = TRUE
  AND c.is_novel = TRUE
  AND h_cc.e_above_hull_per_atom_ev <= cp.hit_threshold_ev_per_atom
"""

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
    (SELECT COUNT(*) FROM candidates c JOIN cycles y ON y.id = c.cycle_id
        WHERE y.campaign_id = cp.id) AS candidates,
    (SELECT COUNT(*) FROM candidates c JOIN cycles y ON y.id = c.cycle_id
        WHERE y.campaign_id = cp.id AND c.selected = TRUE) AS selected,
    (SELECT COUNT(*) FROM calculations k WHERE k.campaign_id = cp.id AND k.status = 'done') AS labels_done,
    (SELECT COUNT(*) FROM calculations k WHERE k.campaign_id = cp.id AND k.status = 'failed') AS labels_failed,
    (SELECT COUNT(*) FROM calculations k
        WHERE k.campaign_id = cp.id AND k.status IN ('pending', 'running')) AS labels_pending,
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
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('config', JSON_TYPE, nullable=False),
    sa.Column('hit_threshold_ev_per_atom', sa.Float(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    op.create_table('cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=32), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('n_generated', sa.Integer(), nullable=False),
    sa.Column('n_valid', sa.Integer(), nullable=False),
    sa.Column('n_novel', sa.Integer(), nullable=False),
    sa.Column('n_selected', sa.Integer(), nullable=False),
    sa.Column('n_labelled', sa.Integer(), nullable=False),
    sa.Column('n_failed', sa.Integer(), nullable=False),
    sa.Column('n_discoveries', sa.Integer(), nullable=False),
    sa.Column('hit_rate', sa.Float(), nullable=True),
    sa.Column('max_divergence_ev_per_atom', sa.Float(), nullable=True),
    sa.Column('ece', sa.Float(), nullable=True),
    sa.Column('failure_signatures', JSON_TYPE, nullable=False),
    sa.Column('metrics', JSON_TYPE, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_cycles_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycles')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_cycles_campaign_id_number'))
    )
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycles_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('backend', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('config', JSON_TYPE, nullable=False),
    sa.Column('metrics', JSON_TYPE, nullable=False),
    sa.Column('training_set_size', sa.Integer(), nullable=False),
    sa.Column('training_set_hash', sa.String(length=64), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_models_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_models_cycle_id_cycles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_models')),
    sa.UniqueConstraint('kind', 'version', name=op.f('uq_models_kind_version'))
    )
    op.create_table('structures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('canonical_hash', sa.String(length=64), nullable=False),
    sa.Column('hash_version', sa.Integer(), nullable=False),
    sa.Column('formula', sa.String(length=200), nullable=False),
    sa.Column('elements', sa.String(length=200), nullable=False),
    sa.Column('n_elements', sa.Integer(), nullable=False),
    sa.Column('nsites', sa.Integer(), nullable=False),
    sa.Column('lattice', JSON_TYPE, nullable=False),
    sa.Column('frac_coords', JSON_TYPE, nullable=False),
    sa.Column('species', JSON_TYPE, nullable=False),
    sa.Column('volume', sa.Float(), nullable=False),
    sa.Column('density', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=500), nullable=True),
    sa.Column('properties', JSON_TYPE, nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_structures_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_structures_cycle_id_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['structures.id'], name=op.f('fk_structures_parent_id_structures'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structures')),
    sa.UniqueConstraint('canonical_hash', name=op.f('uq_structures_canonical_hash'))
    )
    with op.batch_alter_table('structures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structures_elements'), ['elements'], unique=False)
        batch_op.create_index(batch_op.f('ix_structures_formula'), ['formula'], unique=False)
        batch_op.create_index(batch_op.f('ix_structures_source_source_id'), ['source', 'source_id'], unique=False)

    op.create_table('calculations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('fidelity', sa.String(length=16), nullable=False),
    sa.Column('settings_hash', sa.String(length=64), nullable=False),
    sa.Column('settings', JSON_TYPE, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('energy_ev', sa.Float(), nullable=True),
    sa.Column('energy_per_atom_ev', sa.Float(), nullable=True),
    sa.Column('forces', JSON_TYPE, nullable=True),
    sa.Column('stress', JSON_TYPE, nullable=True),
    sa.Column('magnetic_moment', sa.Float(), nullable=True),
    sa.Column('descriptors', JSON_TYPE, nullable=True),
    sa.Column('converged', sa.Boolean(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('wall_time_s', sa.Float(), nullable=True),
    sa.Column('versions', JSON_TYPE, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("fidelity IN ('pbe', 'scan', 'hse06', 'ccsd_t')", name=op.f('ck_calculations_fidelity')),
    sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed', 'refused')", name=op.f('ck_calculations_status')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_calculations_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_calculations_cycle_id_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['structure_id'], ['structures.id'], name=op.f('fk_calculations_structure_id_structures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calculations')),
    sa.UniqueConstraint('structure_id', 'fidelity', 'settings_hash', name=op.f('uq_calculations_structure_id_fidelity_settings_hash'))
    )
    with op.batch_alter_table('calculations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calculations_status_fidelity'), ['status', 'fidelity'], unique=False)
        batch_op.create_index(batch_op.f('ix_calculations_structure_id'), ['structure_id'], unique=False)

    op.create_table('candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('predictions', JSON_TYPE, nullable=False),
    sa.Column('pred_ef_pbe_ev_per_atom', sa.Float(), nullable=True),
    sa.Column('pred_ef_ccsd_t_ev_per_atom', sa.Float(), nullable=True),
    sa.Column('pred_std_ccsd_t_ev_per_atom', sa.Float(), nullable=True),
    sa.Column('divergence', sa.Float(), nullable=True),
    sa.Column('uncertainty', sa.Float(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.Column('is_novel', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_candidates_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['structure_id'], ['structures.id'], name=op.f('fk_candidates_structure_id_structures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidates')),
    sa.UniqueConstraint('cycle_id', 'structure_id', name=op.f('uq_candidates_cycle_id_structure_id'))
    )
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidates_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_candidates_structure_id'), ['structure_id'], unique=False)

    op.create_table('hull_distances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('fidelity', sa.String(length=16), nullable=False),
    sa.Column('settings_hash', sa.String(length=64), nullable=False),
    sa.Column('formation_energy_per_atom_ev', sa.Float(), nullable=False),
    sa.Column('e_above_hull_per_atom_ev', sa.Float(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("fidelity IN ('pbe', 'scan', 'hse06', 'ccsd_t')", name=op.f('ck_hull_distances_fidelity')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_hull_distances_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_hull_distances_cycle_id_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['structure_id'], ['structures.id'], name=op.f('fk_hull_distances_structure_id_structures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hull_distances')),
    sa.UniqueConstraint('campaign_id', 'structure_id', 'fidelity', name=op.f('uq_hull_distances_campaign_id_structure_id_fidelity'))
    )
    with op.batch_alter_table('hull_distances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hull_distances_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hull_distances_structure_id'), ['structure_id'], unique=False)

    op.execute(DISCOVERED_CANDIDATES)
    op.execute(CAMPAIGN_SUMMARY)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS campaign_summary")
    op.execute("DROP VIEW IF EXISTS discovered_candidates")
    with op.batch_alter_table('hull_distances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hull_distances_structure_id'))
        batch_op.drop_index(batch_op.f('ix_hull_distances_campaign_id'))

    op.drop_table('hull_distances')
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidates_structure_id'))
        batch_op.drop_index(batch_op.f('ix_candidates_cycle_id'))

    op.drop_table('candidates')
    with op.batch_alter_table('calculations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calculations_structure_id'))
        batch_op.drop_index(batch_op.f('ix_calculations_status_fidelity'))

    op.drop_table('calculations')
    with op.batch_alter_table('structures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structures_source_source_id'))
        batch_op.drop_index(batch_op.f('ix_structures_formula'))
        batch_op.drop_index(batch_op.f('ix_structures_elements'))

    op.drop_table('structures')
    op.drop_table('models')
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycles_campaign_id'))

    op.drop_table('cycles')
    op.drop_table('campaigns')
