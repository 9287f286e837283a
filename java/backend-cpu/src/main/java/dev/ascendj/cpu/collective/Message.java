package dev.ascendj.cpu.collective;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

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
 * @param payload the bytes
 */
record Message(String group, int to, int from, int channel, long seq, int index, String call, byte[] payload) {
    /** Messages of collectives. */
    static final int COLLECTIVE = 0;
    /** Messages of send/recv. */
    static final int POINT_TO_POINT = 1;

    void write(DataOutputStream out) throws IOException {
        out.writeUTF(group);
        out.writeInt(to);
        out.writeInt(from);
        out.writeByte(channel);
        out.writeLong(seq);
        out.writeInt(index);
        out.writeUTF(call);
        out.writeInt(payload.length);
        out.write(payload);
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
        return new Message(group, to, from, channel, seq, index, call, payload);
    }

    /** The key of the queue this message waits in: receiver, sender and channel. */
    static long queueKey(int to, int from, int channel) {
        return ((long) to << 33) | ((long) from << 1) | channel;
    }
}
