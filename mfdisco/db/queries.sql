-- Example read-only queries of the mfdisco database (SQLite and PostgreSQL alike).
-- Run one with:  mfdisco query --example NAME     (list them: mfdisco query --examples)
-- or paste it:   mfdisco query "SELECT ..."       (or any SQL client; energies in eV/atom)
-- Each query starts with a line "-- name: NAME" and a line "-- what it shows".

-- name: discoveries_by_formula
-- Discoveries (E_hull(CCSD(T)) within the campaign's threshold) grouped by formula, with how often PBE called them unstable.
SELECT formula,
       COUNT(*) AS discoveries,
       MIN(e_hull_ccsd_t_ev_per_atom) AS best_e_hull_ccsd_t,
       MIN(e_hull_pbe_ev_per_atom) AS best_e_hull_pbe,
       SUM(CASE WHEN pbe_wrong_call THEN 1 ELSE 0 END) AS pbe_wrong_calls,
       MIN(campaign) AS campaign
FROM discovered_candidates
GROUP BY formula
ORDER BY discoveries DESC, best_e_hull_ccsd_t;

-- name: pbe_vs_ccsd_t
-- Labelled structures where the PBE and CCSD(T) formation energies disagree most (each campaign's latest hulls).
SELECT s.formula,
       s.id AS structure_id,
       cp.name AS campaign,
       p.formation_energy_per_atom_ev AS ef_pbe,
       c.formation_energy_per_atom_ev AS ef_ccsd_t,
       ABS(p.formation_energy_per_atom_ev - c.formation_energy_per_atom_ev) AS abs_difference,
       p.e_above_hull_per_atom_ev AS e_hull_pbe,
       c.e_above_hull_per_atom_ev AS e_hull_ccsd_t
FROM hull_distances p
JOIN hull_distances c ON c.structure_id = p.structure_id AND c.campaign_id = p.campaign_id AND c.fidelity = 'ccsd_t'
JOIN structures s ON s.id = p.structure_id
JOIN campaigns cp ON cp.id = p.campaign_id
WHERE p.fidelity = 'pbe'
ORDER BY abs_difference DESC
LIMIT 50;

-- name: label_failures
-- Labels that failed or were refused, by fidelity and reason (the first 80 characters of the error).
SELECT fidelity,
       status,
       SUBSTR(COALESCE(error, ''), 1, 80) AS reason,
       COUNT(*) AS labels
FROM calculations
WHERE status IN ('failed', 'refused')
GROUP BY 1, 2, 3
ORDER BY labels DESC, fidelity;

-- name: campaign_progress
-- Every campaign's cycles: step reached, mode, candidates, labels, discoveries, hit rate, largest divergence, ECE gate value.
SELECT cp.name AS campaign,
       y.number AS cycle,
       y.status AS step,
       y.mode,
       y.n_generated,
       y.n_novel,
       y.n_selected,
       y.n_labelled,
       y.n_failed,
       y.n_discoveries,
       y.hit_rate,
       y.max_divergence_ev_per_atom,
       y.ece
FROM cycles y
JOIN campaigns cp ON cp.id = y.campaign_id
ORDER BY cp.id, y.number;

-- name: labels_by_fidelity
-- Labels per fidelity and status, with their mean and longest wall time (s).
SELECT fidelity,
       status,
       COUNT(*) AS labels,
       AVG(wall_time_s) AS mean_wall_time_s,
       MAX(wall_time_s) AS max_wall_time_s
FROM calculations
GROUP BY fidelity, status
ORDER BY fidelity, status;
