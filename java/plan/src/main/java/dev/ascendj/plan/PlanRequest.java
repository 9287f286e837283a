package dev.ascendj.plan;

import dev.ascendj.model.LlamaConfig;

/**
 * Everything the planner needs to know about a job.
 *
 * @param modelName how the user named the model (preset or path), kept in the plan
 * @param model     the model's configuration
 * @param cluster   the cluster
 * @param job       the job
 * @param engine    the engine that will run the plan, or null for the cluster's default
 *                  ({@link Engine#defaultFor})
 */
public record PlanRequest(String modelName, LlamaConfig model, ClusterSpec cluster, JobSpec job, Engine engine) {

    /** A request for the cluster's default engine. */
    public PlanRequest(String modelName, LlamaConfig model, ClusterSpec cluster, JobSpec job) {
        this(modelName, model, cluster, job, null);
    }

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

    /** The same request for another job. */
    public PlanRequest withJob(JobSpec other) {
        return new PlanRequest(modelName, model, cluster, other, engine);
    }

    /** The same request on another cluster. */
    public PlanRequest withCluster(ClusterSpec other) {
        return new PlanRequest(modelName, model, other, job, engine);
    }
}
