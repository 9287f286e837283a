package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** ACL's current context is per thread; the wrappers bind it before each call. */
class ContextBinderTest {
    @Test
    void eachThreadBindsTheDeviceContextOnceBeforeUsingIt() throws Exception {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            int before = npu.acl.calls("aclrtSetCurrentContext").size();
            d.allocate(16).close();
            d.allocate(16).close(); // the creating thread already has the context: no call
            assertEquals(before, npu.acl.calls("aclrtSetCurrentContext").size());

            CompletableFuture.runAsync(() -> {
                d.allocate(16).close();
                d.allocate(16).close();
                assertEquals(d.contextHandle(), npu.acl.currentContext.get());
            }).get();
            assertEquals(before + 1, npu.acl.calls("aclrtSetCurrentContext").size());
        }
    }

    @Test
    void switchingDevicesOnOneThreadRebinds() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d0 = npu.backend.device(0);
            NpuDevice d1 = npu.backend.device(1);
            d0.allocate(8).close();
            assertEquals(d0.contextHandle(), npu.acl.currentContext.get());
            d1.allocate(8).close();
            assertEquals(d1.contextHandle(), npu.acl.currentContext.get());
            d0.defaultStream().synchronize();
            assertEquals(d0.contextHandle(), npu.acl.currentContext.get());
        }
    }

    @Test
    void makeCurrentRebindsEvenWhenTheCacheSaysItIsCurrent() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            int before = npu.acl.calls("aclrtSetCurrentContext").size();
            d.makeCurrent();
            assertEquals(before + 1, npu.acl.calls("aclrtSetCurrentContext").size());
        }
    }
}
