package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One NPU (or virtual CPU device) of a server: its device id on that server and, for Ascend, the
 * IP of its own RoCE NIC, which the HCCL rank table lists as {@code device_ip}. In a YAML
 * inventory a device is {@code {id: 0, ip: 192.168.100.101}}, or just its id.
 *
 * @param id device id on its server, from 0
 * @param ip the device's NIC address (IPv4), or null when unknown (shorthand clusters, CPU)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DeviceSpec(@JsonProperty(value = "id", required = true) int id, @JsonProperty("ip") String ip) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public DeviceSpec {
        if (id < 0) {
            throw new PlanException("id", "must not be negative, got " + id);
        }
        if (ip != null && !Addresses.isIpv4(ip)) {
            throw new PlanException("ip", "'" + ip + "' is not an IPv4 address");
        }
    }

    /** A device given by its id alone. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static DeviceSpec of(int id) {
        return new DeviceSpec(id, null);
    }
}
