package dev.ascendj.model.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte, so that tests can make them wrong in every way. */
final class RawSafetensors {
    private RawSafetensors() {
    }

    /** A file with {@code header} (JSON text) and {@code data}, the length field set honestly. */
    static Path write(Path file, String header, byte[] data) throws IOException {
        return write(file, header.getBytes(StandardCharsets.UTF_8), data);
    }

    static Path write(Path file, byte[] header, byte[] data) throws IOException {
        return write(file, header.length, header, data);
    }

    /** A file whose length field says {@code declaredLength}, whatever follows. */
    static Path write(Path file, long declaredLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }

    /** Little-endian bytes of floats. */
    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    /** The header length field of a file. */
    static long headerLength(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        return ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The header text of a file. */
    static String headerText(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        int n = (int) headerLength(file);
        return new String(all, 8, n, StandardCharsets.UTF_8);
    }
}
