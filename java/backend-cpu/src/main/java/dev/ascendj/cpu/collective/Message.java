package dev.ascendj.cpu.collective;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * One message of a group that spans processes: a chunk of a collective or a point-to-point
 * transfer, from one member to another, with what the receiver checks it against: the group,
 * the call's number and description, and the message's index within the call.
 *
 * @param group   the group's name
 * @param to      receiving member
 * @param from    sending member
 * @param channel {@link #COLLECTIVE} or {@link #POINT_TO_POINT}
 * @param seq     the call's number: the k-th collective of the sender, or its k-th send to {@code to}
 * @param index   the message's index within the call (collectives send several)
 * @param call    the sender's description of the call, e.g. {@code allReduce(SUM, [64]:FP32)}
 * @param payload the bytes, from its position to its limit: the sender's memory itself until
 *                the message leaves the sender ({@link #detached} for a receiver in the same
 *                process, {@link #write} over a connection), so sending copies no more than it must
 */
record Message(String group, int to, int from, int channel, long seq, int index, String call, ByteBuffer payload) {
    /** Messages of collectives. */
    static final int COLLECTIVE = 0;
    /** Messages of send/recv. */
    static final int POINT_TO_POINT = 1;

    /** The payload's size in bytes. */
    int length() {
        return payload.remaining();
    }

    /** The same message with a copy of the payload that no longer shares the sender's memory. */
    Message detached() {
        ByteBuffer copy = ByteBuffer.allocate(length()).put(payload.duplicate()).flip();
        return new Message(group, to, from, channel, seq, index, call, copy);
    }

    /**
     * Writes the message: the header through {@code out}, flushed, then the payload straight from
     * the sender's memory into {@code socket}, the same connection (a direct buffer goes to the
     * socket without passing through the Java heap). Returns when every byte was handed to the
     * kernel, so the sender may overwrite its memory afterwards.
     */
    void write(DataOutputStream out, WritableByteChannel socket) throws IOException {
        out.writeUTF(group);
        out.writeInt(to);
        out.writeInt(from);
        out.writeByte(channel);
        out.writeLong(seq);
        out.writeInt(index);
        out.writeUTF(call);
        out.writeInt(length());
        out.flush();
        ByteBuffer bytes = payload.duplicate();
        while (bytes.hasRemaining()) {
            socket.write(bytes);
        }
    }

    static Message read(DataInputStream in) throws IOException {
        String group = in.readUTF();
        int to = in.readInt();
        int from = in.readInt();
        int channel = in.readByte();
        long seq = in.readLong();
        int index = in.readInt();
        String call = in.readUTF();
        int length = in.readInt();
        if (length < 0) {
            throw new IOException("corrupt message: negative length " + length);
        }
        byte[] payload = new byte[length];
        in.readFully(payload);
        return new Message(group, to, from, channel, seq, index, call, ByteBuffer.wrap(payload));
    }

    /** The key of the queue this message waits in: receiver, sender and channel. */
    static long queueKey(int to, int from, int channel) {
        return ((long) to << 33) | ((long) from << 1) | channel;
    }
}
