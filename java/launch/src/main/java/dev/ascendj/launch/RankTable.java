package dev.ascendj.launch;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * An HCCL rank table, version 1.0, as {@code hccl_tools.py} writes it and MindSpore reads it from
 * {@code RANK_TABLE_FILE}. Every value is a string, as HCCL expects.
 *
 * @param version     "1.0"
 * @param serverCount number of servers, as a string
 * @param serverList  the servers in rank order
 * @param status      "completed"
 */
@JsonPropertyOrder({"version", "server_count", "server_list", "status"})
public record RankTable(@JsonProperty("version") String version,
                        @JsonProperty("server_count") String serverCount,
                        @JsonProperty("server_list") List<Server> serverList,
                        @JsonProperty("status") String status) {

    /** The only rank-table version written and read. */
    public static final String VERSION = "1.0";
    /** The status of a usable table. */
    public static final String COMPLETED = "completed";

    public RankTable {
        serverList = serverList == null ? null : List.copyOf(serverList);
    }

    /**
     * One server.
     *
     * @param serverId  the server's IP
     * @param device    its NPUs
     * @param hostNicIp "reserve", as hccl_tools.py writes
     */
    @JsonPropertyOrder({"server_id", "device", "host_nic_ip"})
    public record Server(@JsonProperty("server_id") String serverId,
                         @JsonProperty("device") List<Device> device,
                         @JsonProperty("host_nic_ip") String hostNicIp) {
        public Server {
            device = device == null ? null : List.copyOf(device);
        }
    }

    /**
     * One NPU and its rank.
     *
     * @param deviceId device id on the server
     * @param deviceIp the NPU NIC's IP
     * @param rankId   the global rank
     */
    @JsonPropertyOrder({"device_id", "device_ip", "rank_id"})
    public record Device(@JsonProperty("device_id") String deviceId,
                         @JsonProperty("device_ip") String deviceIp,
                         @JsonProperty("rank_id") String rankId) {
    }

    /** Total number of ranks. */
    public int rankCount() {
        return serverList.stream().mapToInt(s -> s.device().size()).sum();
    }
}
