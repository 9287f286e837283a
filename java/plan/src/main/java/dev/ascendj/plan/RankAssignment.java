package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where one rank runs and what it does.
 *
 * @param rank     global rank (MindSpore order: stage-major, then data-parallel, then tensor-parallel index)
 * @param stage    its pipeline stage
 * @param dpIndex  its data-parallel replica
 * @param tpIndex  its tensor-parallel index
 * @param server   index of its server in the cluster spec
 * @param host     that server's address
 * @param deviceId device id on that server
 * @param deviceIp the device's NIC address, or null when the cluster spec has none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RankAssignment(@JsonProperty("rank") int rank, @JsonProperty("stage") int stage,
                             @JsonProperty("dpIndex") int dpIndex, @JsonProperty("tpIndex") int tpIndex,
                             @JsonProperty("server") int server, @JsonProperty("host") String host,
                             @JsonProperty("deviceId") int deviceId, @JsonProperty("deviceIp") String deviceIp) {
}
