package dev.ascendj.plan;

import dev.ascendj.model.LlamaConfig;

/**
 * Everything the planner needs to know about a job.
 *
 * @param modelName how the user named the model (preset or path), kept in the plan
 * @param model     the model's configuration
 * @param cluster   the cluster
 * @param job       the job
 */
public record PlanRequest(String modelName, LlamaConfig model, ClusterSpec cluster, JobSpec job) {
    public PlanRequest {
        if (model == null) {
            throw new PlanException("model", "missing");
        }
        if (cluster == null) {
            throw new PlanException("cluster", "missing");
        }
        if (job == null) {
            throw new PlanException("job", "missing");
        }
        modelName = modelName == null ? "custom" : modelName;
    }
}
