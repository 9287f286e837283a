package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One server of a cluster: its address (the rank table's {@code server_id}), its hardware
 * profile, how to reach it over SSH, and its devices sorted by id.
 *
 * @param host     the server's address (IPv4 or RFC 1123 host name) as the other servers reach it
 * @param hardware hardware profile name, or null to inherit the cluster's
 * @param sshPort  SSH port for the operator commands, or null for SSH's default
 * @param devices  the devices of this server that take part
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ServerSpec(
        @JsonProperty(value = "host", required = true) String host,
        @JsonProperty("hardware") String hardware,
        @JsonProperty("sshPort") Integer sshPort,
        @JsonProperty(value = "devices", required = true) List<DeviceSpec> devices) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public ServerSpec {
        if (!Addresses.isHost(host)) {
            throw new PlanException("host", "'" + host + "' is neither an IPv4 address nor a host name (letters, digits, '-', '.')");
        }
        if (sshPort != null && (sshPort < 1 || sshPort > 65535)) {
            throw new PlanException("sshPort", sshPort + " is not a port number (1-65535)");
        }
        if (devices == null || devices.isEmpty()) {
            throw new PlanException("devices", "a server needs at least one device");
        }
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < devices.size(); i++) {
            DeviceSpec d = devices.get(i);
            if (d == null) {
                throw new PlanException("devices[" + i + "]", "must not be null");
            }
            if (!ids.add(d.id())) {
                throw new PlanException("devices[" + i + "].id", "device " + d.id() + " is listed twice");
            }
        }
        List<DeviceSpec> sorted = new ArrayList<>(devices);
        sorted.sort(Comparator.comparingInt(DeviceSpec::id));
        devices = List.copyOf(sorted);
    }

    /** A server reached on SSH's default port. */
    public ServerSpec(String host, String hardware, List<DeviceSpec> devices) {
        this(host, hardware, null, devices);
    }
}
