package dev.ascendj.ascend;

import dev.ascendj.ascend.jcpp.JavaCppAclApi;
import dev.ascendj.ascend.jcpp.JavaCppAclnnApi;
import dev.ascendj.ascend.jcpp.JavaCppHcclApi;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.ascend.spi.AclnnOp;
import dev.ascendj.ascend.spi.HcclApi;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real bindings (over the simulated CANN in tests) with every create and destroy counted:
 * device and pinned memory, contexts, streams, events, devices set, aclnn descriptors and
 * executors, HCCL communicators. {@link #live()} lists what was created and not yet destroyed, so
 * a test can check that everything a run made (ranks that failed included) was given back.
 */
final class CountingCann {
    private final Map<String, Long> live = new ConcurrentHashMap<>();
    private final Map<Long, Long> deviceBytes = new ConcurrentHashMap<>();
    final AclApi acl = new Acl(JavaCppAclApi.instance());
    final AclnnApi aclnn = new Aclnn(JavaCppAclnnApi.instance());
    final HcclApi hccl = new Hccl(JavaCppHcclApi.instance());

    /** A backend over the counted bindings (ACL is already initialised by the run's shared backend, or here). */
    AscendBackend backend() {
        return new AscendBackend(acl, aclnn, () -> hccl);
    }

    private void made(String kind, long handle) {
        live.merge(kind + "@" + Long.toHexString(handle), 1L, Long::sum);
    }

    private void gone(String kind, long handle) {
        live.computeIfPresent(kind + "@" + Long.toHexString(handle), (k, n) -> n == 1 ? null : n - 1);
    }

    /** What was made and not destroyed, by kind ("stream", "event", "hccl-comm", ...); empty when all is back. */
    Map<String, Integer> live() {
        Map<String, Integer> byKind = new TreeMap<>();
        live.forEach((k, n) -> byKind.merge(k.substring(0, k.indexOf('@')), n.intValue(), Integer::sum));
        return byKind;
    }

    /** Device bytes allocated and not freed. */
    long liveDeviceBytes() {
        return deviceBytes.values().stream().mapToLong(Long::longValue).sum();
    }

    private final class Acl implements AclApi {
        private final AclApi d;

        Acl(AclApi d) {
            this.d = d;
        }

        @Override
        public int init(String configPath) {
            return d.init(configPath);
        }

        @Override
        public int finalizeAcl() {
            return d.finalizeAcl();
        }

        @Override
        public String recentErrMsg() {
            return d.recentErrMsg();
        }

        @Override
        public String socName() {
            return d.socName();
        }

        @Override
        public int getDeviceCount(int[] count) {
            return d.getDeviceCount(count);
        }

        @Override
        public int setDevice(int deviceId) {
            int r = d.setDevice(deviceId);
            if (r == 0) {
                made("device", deviceId);
            }
            return r;
        }

        @Override
        public int resetDevice(int deviceId) {
            int r = d.resetDevice(deviceId);
            if (r == 0) {
                gone("device", deviceId);
            }
            return r;
        }

        @Override
        public int synchronizeDevice() {
            return d.synchronizeDevice();
        }

        @Override
        public int createContext(long[] context, int deviceId) {
            int r = d.createContext(context, deviceId);
            if (r == 0) {
                made("context", context[0]);
            }
            return r;
        }

        @Override
        public int destroyContext(long context) {
            int r = d.destroyContext(context);
            if (r == 0) {
                gone("context", context);
            }
            return r;
        }

        @Override
        public int setCurrentContext(long context) {
            return d.setCurrentContext(context);
        }

        @Override
        public int createStream(long[] stream) {
            int r = d.createStream(stream);
            if (r == 0) {
                made("stream", stream[0]);
            }
            return r;
        }

        @Override
        public int destroyStream(long stream) {
            int r = d.destroyStream(stream);
            if (r == 0) {
                gone("stream", stream);
            }
            return r;
        }

        @Override
        public int synchronizeStream(long stream) {
            return d.synchronizeStream(stream);
        }

        @Override
        public int synchronizeStreamWithTimeout(long stream, int timeoutMs) {
            return d.synchronizeStreamWithTimeout(stream, timeoutMs);
        }

        @Override
        public int createEvent(long[] event) {
            int r = d.createEvent(event);
            if (r == 0) {
                made("event", event[0]);
            }
            return r;
        }

        @Override
        public int destroyEvent(long event) {
            int r = d.destroyEvent(event);
            if (r == 0) {
                gone("event", event);
            }
            return r;
        }

        @Override
        public int recordEvent(long event, long stream) {
            return d.recordEvent(event, stream);
        }

        @Override
        public int streamWaitEvent(long stream, long event) {
            return d.streamWaitEvent(stream, event);
        }

        @Override
        public int synchronizeEvent(long event) {
            return d.synchronizeEvent(event);
        }

        @Override
        public int queryEventStatus(long event, int[] status) {
            return d.queryEventStatus(event, status);
        }

        @Override
        public int eventElapsedTime(float[] ms, long startEvent, long endEvent) {
            return d.eventElapsedTime(ms, startEvent, endEvent);
        }

        @Override
        public int malloc(long[] devPtr, long size, int policy) {
            int r = d.malloc(devPtr, size, policy);
            if (r == 0) {
                made("device-memory", devPtr[0]);
                deviceBytes.put(devPtr[0], size);
            }
            return r;
        }

        @Override
        public int free(long devPtr) {
            int r = d.free(devPtr);
            if (r == 0) {
                gone("device-memory", devPtr);
                deviceBytes.remove(devPtr);
            }
            return r;
        }

        @Override
        public int mallocHost(long[] hostPtr, long size) {
            int r = d.mallocHost(hostPtr, size);
            if (r == 0) {
                made("pinned-memory", hostPtr[0]);
            }
            return r;
        }

        @Override
        public int freeHost(long hostPtr) {
            int r = d.freeHost(hostPtr);
            if (r == 0) {
                gone("pinned-memory", hostPtr);
            }
            return r;
        }

        @Override
        public int memcpy(long dst, long destMax, long src, long count, int kind) {
            return d.memcpy(dst, destMax, src, count, kind);
        }

        @Override
        public int memcpyAsync(long dst, long destMax, long src, long count, int kind, long stream) {
            return d.memcpyAsync(dst, destMax, src, count, kind, stream);
        }

        @Override
        public int memsetAsync(long devPtr, long maxCount, int value, long count, long stream) {
            return d.memsetAsync(devPtr, maxCount, value, count, stream);
        }

        @Override
        public int getMemInfo(int attr, long[] free, long[] total) {
            return d.getMemInfo(attr, free, total);
        }
    }

    private final class Aclnn implements AclnnApi {
        private final AclnnApi d;

        Aclnn(AclnnApi d) {
            this.d = d;
        }

        @Override
        public long createTensor(long[] viewDims, int dataType, long[] strides, long offset, int format,
                                 long[] storageDims, long data) {
            long h = d.createTensor(viewDims, dataType, strides, offset, format, storageDims, data);
            if (h != 0) {
                made("aclnn-tensor", h);
            }
            return h;
        }

        @Override
        public int destroyTensor(long tensor) {
            int r = d.destroyTensor(tensor);
            if (r == 0) {
                gone("aclnn-tensor", tensor);
            }
            return r;
        }

        @Override
        public long createScalar(double value, int dataType) {
            long h = d.createScalar(value, dataType);
            if (h != 0) {
                made("aclnn-scalar", h);
            }
            return h;
        }

        @Override
        public int destroyScalar(long scalar) {
            int r = d.destroyScalar(scalar);
            if (r == 0) {
                gone("aclnn-scalar", scalar);
            }
            return r;
        }

        @Override
        public long createIntArray(long[] values) {
            long h = d.createIntArray(values);
            if (h != 0) {
                made("aclnn-int-array", h);
            }
            return h;
        }

        @Override
        public int destroyIntArray(long array) {
            int r = d.destroyIntArray(array);
            if (r == 0) {
                gone("aclnn-int-array", array);
            }
            return r;
        }

        @Override
        public int getWorkspaceSize(AclnnOp op, Object[] args, long[] workspaceSize, long[] executor) {
            int r = d.getWorkspaceSize(op, args, workspaceSize, executor);
            if (r == 0) {
                made("aclnn-executor", executor[0]);
            }
            return r;
        }

        @Override
        public int execute(AclnnOp op, long workspace, long workspaceSize, long executor, long stream) {
            // Phase 2 consumes the executor, whatever it returns.
            gone("aclnn-executor", executor);
            return d.execute(op, workspace, workspaceSize, executor, stream);
        }

        @Override
        public int destroyExecutor(long executor) {
            int r = d.destroyExecutor(executor);
            gone("aclnn-executor", executor);
            return r;
        }
    }

    private final class Hccl implements HcclApi {
        private final HcclApi d;

        Hccl(HcclApi d) {
            this.d = d;
        }

        @Override
        public int getRootInfo(byte[] rootInfo) {
            return d.getRootInfo(rootInfo);
        }

        @Override
        public int commInitRootInfo(int nRanks, byte[] rootInfo, int rank, long[] comm) {
            int r = d.commInitRootInfo(nRanks, rootInfo, rank, comm);
            if (r == 0) {
                made("hccl-comm", comm[0]);
            }
            return r;
        }

        @Override
        public int commInitClusterInfo(String rankTablePath, int rank, long[] comm) {
            int r = d.commInitClusterInfo(rankTablePath, rank, comm);
            if (r == 0) {
                made("hccl-comm", comm[0]);
            }
            return r;
        }

        @Override
        public int commInitAll(int[] devices, long[] comms) {
            int r = d.commInitAll(devices, comms);
            if (r == 0) {
                for (long c : comms) {
                    made("hccl-comm", c);
                }
            }
            return r;
        }

        @Override
        public int commDestroy(long comm) {
            int r = d.commDestroy(comm);
            if (r == 0) {
                gone("hccl-comm", comm);
            }
            return r;
        }

        @Override
        public int getRankSize(long comm, int[] size) {
            return d.getRankSize(comm, size);
        }

        @Override
        public int getRankId(long comm, int[] rank) {
            return d.getRankId(comm, rank);
        }

        @Override
        public String errorString(int code) {
            return d.errorString(code);
        }

        @Override
        public int allReduce(long sendBuf, long recvBuf, long count, int dataType, int op, long comm, long stream) {
            return d.allReduce(sendBuf, recvBuf, count, dataType, op, comm, stream);
        }

        @Override
        public int broadcast(long buf, long count, int dataType, int root, long comm, long stream) {
            return d.broadcast(buf, count, dataType, root, comm, stream);
        }

        @Override
        public int reduceScatter(long sendBuf, long recvBuf, long recvCount, int dataType, int op, long comm,
                                 long stream) {
            return d.reduceScatter(sendBuf, recvBuf, recvCount, dataType, op, comm, stream);
        }

        @Override
        public int allGather(long sendBuf, long recvBuf, long sendCount, int dataType, long comm, long stream) {
            return d.allGather(sendBuf, recvBuf, sendCount, dataType, comm, stream);
        }

        @Override
        public int send(long buf, long count, int dataType, int destRank, long comm, long stream) {
            return d.send(buf, count, dataType, destRank, comm, stream);
        }

        @Override
        public int recv(long buf, long count, int dataType, int srcRank, long comm, long stream) {
            return d.recv(buf, count, dataType, srcRank, comm, stream);
        }

        @Override
        public int barrier(long comm, long stream) {
            return d.barrier(comm, stream);
        }
    }

    @Override
    public String toString() {
        List<String> l = new ArrayList<>();
        live().forEach((k, n) -> l.add(n + " " + k));
        return l.isEmpty() ? "nothing live" : String.join(", ", l);
    }
}
