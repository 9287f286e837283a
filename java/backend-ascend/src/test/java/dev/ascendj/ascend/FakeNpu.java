package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

/** A fake Ascend machine for tests: the fake runtime, the fake aclnn and a backend over them. */
final class FakeNpu implements TestNpu {
    final FakeAcl acl;
    final FakeAclnn aclnn;
    final AscendBackend backend;

    FakeNpu(String soc) {
        this(soc, 2);
    }

    FakeNpu(String soc, int devices) {
        this.acl = new FakeAcl(devices, soc);
        this.aclnn = new FakeAclnn(acl.log);
        this.backend = new AscendBackend(acl, aclnn);
    }

    static FakeNpu a910() {
        return new FakeNpu("Ascend910A");
    }

    static FakeNpu b910() {
        return new FakeNpu("Ascend910B2");
    }

    @Override
    public AscendBackend backend() {
        return backend;
    }

    /** Closes the backend and checks that every handle, block and descriptor was released. */
    @Override
    public void close() {
        backend.close();
        List<String> leaked = acl.liveHandles();
        assertEquals(List.of(), leaked, "handles or memory not released");
        assertEquals(0, aclnn.liveDescriptors(), "aclnn descriptors not destroyed");
    }
}
