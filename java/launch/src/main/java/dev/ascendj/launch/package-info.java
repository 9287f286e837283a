/**
 * The operator toolkit: cluster inventories ({@link dev.ascendj.launch.Inventory}), HCCL rank
 * tables ({@link dev.ascendj.launch.RankTableBuilder}), MindFormers configurations
 * ({@link dev.ascendj.launch.MindFormersConfig}), launch scripts, preflight checks, the log
 * monitor and checkpoint conversion; the {@code ascendj} commands that run them live in the CLI.
 * Everything consumes a {@link dev.ascendj.plan.Plan}.
 */
package dev.ascendj.launch;
