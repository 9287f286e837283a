package dev.ascendj.ascend;

import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One rank of {@link HcclProcessesSimTest}, in a JVM of its own over the simulated CANN: rank 0
 * writes HCCL's root information (as hex) to a file, the others read it, and every rank joins the
 * group on its NPU. Arguments: {@code <scenario> <rank> <ranks> <root-info file>}; scenarios are
 * {@code collectives} (all-reduce, all-gather, send/recv; prints "result ..."), {@code absent}
 * (joins, then never calls the collective rank 0 calls) and {@code alone} (rank 0 of a group whose
 * other ranks never join). Exit code 0 unless something threw.
 */
public final class HcclRankProcess {
    private HcclRankProcess() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        int rank = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        Path rootFile = Path.of(args[3]);
        try (AscendBackend npu = AscendBackend.open(); Scope s = Scope.open()) {
            NpuDevice d = npu.device(rank);
            byte[] root;
            if (rank == 0) {
                root = HcclCommunicator.rootInfo(d);
                Path tmp = rootFile.resolveSibling(rootFile.getFileName() + ".tmp");
                Files.writeString(tmp, HexFormat.of().formatHex(root));
                Files.move(tmp, rootFile, StandardCopyOption.ATOMIC_MOVE);
            } else {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!Files.exists(rootFile)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("no root information from rank 0 in 60 s");
                    }
                    Thread.sleep(20);
                }
                root = HexFormat.of().parseHex(Files.readString(rootFile).strip());
            }
            try (HcclCommunicator c = HcclCommunicator.fromRootInfo(d, n, root, rank)) {
                Tensor x = Tensor.fromFloats(d, Shape.of(2), rank + 1, 10 * (rank + 1));
                switch (scenario) {
                    case "collectives" -> {
                        Tensor all = Tensor.empty(d, x.dtype(), Shape.of(2 * n));
                        c.allGather(x, all);
                        c.allReduce(x, x, ReduceOp.SUM);
                        Tensor token = Tensor.fromFloats(d, Shape.of(1), rank);
                        if (rank == 0) {
                            c.send(token, 1);
                        } else if (rank == 1) {
                            c.recv(token, 0);
                        }
                        System.out.println("result " + Arrays.toString(x.toFloatArray()) + " "
                                + Arrays.toString(all.toFloatArray()) + " " + Arrays.toString(token.toFloatArray()));
                    }
                    case "absent" -> {
                        if (rank == 0) {
                            c.allReduce(x, x, ReduceOp.SUM);
                            x.toFloatArray();
                        } else {
                            Thread.sleep(2500); // joined, but never calls the all-reduce (rank 0 gives up after 1.5 s)
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown scenario " + scenario);
                }
            }
        }
    }
}
