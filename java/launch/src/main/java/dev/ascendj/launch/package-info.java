/**
 * The operator toolkit: cluster inventories ({@link dev.ascendj.launch.Inventory}), HCCL rank
 * tables ({@link dev.ascendj.launch.RankTables}), MindFormers configurations
 * ({@link dev.ascendj.launch.MindFormersConfig}) and the {@code ascendj} commands that produce
 * them. Everything consumes a {@link dev.ascendj.plan.Plan}.
 */
package dev.ascendj.launch;
