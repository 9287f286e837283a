package dev.ascendj.cli;

import dev.ascendj.launch.Inventory;
import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.PlanFiles;
import dev.ascendj.launch.RankTable;
import dev.ascendj.launch.RankTableBuilder;
import dev.ascendj.plan.Plan;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ascendj ranktable}: the HCCL rank table of a planned job, from an inventory file or from
 * the servers' {@code hccn_tool}/{@code /etc/hccn.conf} outputs; or a merge of per-server tables.
 */
@Command(name = "ranktable", mixinStandardHelpOptions = true,
        description = "Write the HCCL rank table (RANK_TABLE_FILE) of a planned job, or merge per-server tables as merge_hccl.py does.",
        footer = {"", "Examples:",
            "  ascendj ranktable --inventory cluster.yaml --plan plan.json -o hccl_4s_32p.json",
            "  ascendj ranktable --hccn 10.0.0.11=node0/hccn.conf --hccn 10.0.0.12=node1/hccn.conf --hardware ascend-910a "
                + "--plan plan.json -o hccl_2s_16p.json",
            "  ascendj ranktable --merge hccl_8p_01234567_10.0.0.11.json hccl_8p_01234567_10.0.0.12.json",
            "", "--hccn PATH is a copy of /etc/hccn.conf, or a directory of 'hccn_tool -i N -ip -g' outputs named hccn_tool_N.txt.",
            "Exit codes: 0 written, 2 invalid input (the message names the file, the field and the problem)."})
public final class RankTableCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--inventory", paramLabel = "FILE", description = "Cluster inventory (YAML/JSON): servers, hosts, NPU ids and IPs.")
    Path inventory;

    @Option(names = "--hccn", paramLabel = "HOST=PATH", description = "A server and its /etc/hccn.conf copy or hccn_tool output directory; "
            + "repeat per server, in rank order.")
    List<String> hccn;

    @Option(names = "--hardware", paramLabel = "PROFILE", defaultValue = "ascend-910a",
            description = "Hardware of the --hccn servers (default ${DEFAULT-VALUE}).")
    String hardware;

    @Option(names = "--plan", paramLabel = "FILE", description = "The plan (ascendj plan --save); its rank map gives the rank ids.")
    Path plan;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Output file (default: hccl_{S}s_{P}p.json).")
    Path output;

    @Option(names = "--merge", arity = "1..*", paramLabel = "TABLE", description = "Merge these single-server rank tables, in order.")
    List<Path> merge;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            RankTable table;
            if (merge != null) {
                if (inventory != null || hccn != null || plan != null) {
                    throw new LaunchException("--merge takes rank tables only, not --inventory, --hccn or --plan");
                }
                List<RankTable> tables = new ArrayList<>();
                for (Path p : merge) {
                    tables.add(RankTableBuilder.read(p));
                }
                table = RankTableBuilder.merge(tables);
            } else {
                if (plan == null) {
                    throw new LaunchException("--plan is required (or --merge)");
                }
                Inventory inv = loadInventory(inventory, hccn, hardware);
                Plan p = PlanFiles.read(plan);
                table = RankTableBuilder.build(inv, p, inventory != null ? inventory.toString() : "--hccn");
            }
            Path target = output != null ? output : Path.of(RankTableBuilder.mergedFileName(table));
            RankTableBuilder.write(table, target);
            out.println("rank table for " + table.serverCount() + " servers, " + table.rankCount() + " ranks written to " + target);
            return 0;
        } catch (LaunchException e) {
            err.println("ascendj ranktable: " + e.getMessage());
            return 2;
        }
    }


    /** The inventory from a file or from {@code --hccn HOST=PATH} pairs (exactly one of the two). */
    static Inventory loadInventory(Path inventory, List<String> hccn, String hardware) {
        if ((inventory == null) == (hccn == null || hccn.isEmpty())) {
            throw new LaunchException("give either --inventory FILE or one --hccn HOST=PATH per server");
        }
        if (inventory != null) {
            return Inventory.read(inventory);
        }
        Map<String, Map<Integer, String>> servers = new LinkedHashMap<>();
        for (String pair : hccn) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1) {
                throw new LaunchException("--hccn '" + pair + "': expected HOST=PATH");
            }
            String host = pair.substring(0, eq);
            if (servers.put(host, Inventory.readHccnAddresses(Path.of(pair.substring(eq + 1)))) != null) {
                throw new LaunchException("--hccn: server " + host + " is given twice");
            }
        }
        return Inventory.fromHccn(null, hardware, servers);
    }
}
