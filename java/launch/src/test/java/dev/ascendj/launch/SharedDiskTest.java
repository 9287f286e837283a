package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** MindFormers' check_shared_disk (v1.0.0 mindformers/tools/utils.py) applied to recorded mount tables. */
class SharedDiskTest {

    private static final String MOUNTS = String.join("\n",
            "/dev/sda2 / ext4 rw,relatime 0 0",
            "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0",
            "10.0.0.5:/export/shared /shared nfs rw,relatime,vers=3,rsize=1048576,proto=tcp 0 0",
            "10.0.0.5:/export/v4 /v4 nfs4 rw,relatime,vers=4.2 0 0",
            "hpc@10.0.0.5:/export /sshfs fuse.sshfs rw,nosuid,nodev,relatime,user_id=0,group_id=0 0 0",
            "dpc /dpc dpc rw 0 0",
            "/dev/sdb1 /data ext4 rw,relatime 0 0",
            "10.0.0.5:/export/two /data2 nfs rw,vers=3 0 0",
            "/dev/sdc1 /mnt/my\\040disk xfs rw 0 0",
            "");

    @Test
    void nfsAndDpcAreSharedAsMindFormersTestsThem() {
        assertTrue(SharedDisk.check(MOUNTS, "/shared/job1/output").shared());
        assertTrue(SharedDisk.check(MOUNTS, "/dpc/out").shared());
        assertEquals("mount /shared (nfs)", SharedDisk.check(MOUNTS, "/shared/job1/output").describe());
    }

    @Test
    void nfs4AndUsualSshfsMountsDoNotPassMindFormersTest() {
        assertFalse(SharedDisk.check(MOUNTS, "/v4/output").shared());
        assertFalse(SharedDisk.check(MOUNTS, "/sshfs/output").shared());
        String withOption = "h:/e /s fuse.sshfs rw,fuse.sshfs 0 0\n";
        assertTrue(SharedDisk.check(withOption, "/s/o").shared(), "the options, not the type, are what MindFormers looks at");
    }

    @Test
    void theFirstMountWhoseMountPointPrefixesThePathDecidesEvenAcrossNames() {
        // "/data" is a string prefix of "/data2/...": the local /data entry comes first and decides.
        SharedDisk.Verdict v = SharedDisk.check(MOUNTS, "/data2/output");
        assertFalse(v.shared());
        assertEquals("/data", v.mountPoint());
        assertFalse(SharedDisk.check(MOUNTS, "/home/hpc/job/output").shared());
        assertEquals(null, SharedDisk.check(MOUNTS, "/home/hpc/job/output").mountPoint());
        assertEquals("/mnt/my disk", SharedDisk.check(MOUNTS, "/mnt/my disk/out").mountPoint());
    }

    @Test
    void relativeOutputDirsAreTakenFromTheJobDirectoryLikeOsPathAbspath() {
        assertEquals("/shared/job1/output", SharedDisk.absolute("/shared/job1", "./output"));
        assertEquals("/shared/out", SharedDisk.absolute("/shared/job1", "../out/"));
        assertEquals("/abs/o", SharedDisk.absolute("/shared/job1", "/abs//o"));
    }
}
