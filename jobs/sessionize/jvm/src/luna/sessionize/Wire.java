package luna.sessionize;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.types.Row;

/**
 * The rows between Python and the JVM stages. In: what Python's parse addresses (ParseRows in functions.py),
 * `(route, kind, uid, node, ts, session_key, join_key, joins, supplement, payload)`; `payload` is the pickled
 * Python event, opaque here. Between the JVM stages the same row, re-addressed. Out, to Python's assembly:
 * `(kind, session_key, header, payloads)` with the header as Out.encodeAll writes it and the events' payloads
 * length-prefixed in the header's order (baseline, then supplements).
 */
final class Wire {
    static final String PASS = "pass", BASELINE = "baseline", OWNER = "owner", SUPPLEMENT = "supplement", EVENT = "event",
            OUTPUT = "output";
    static final String[] IN_NAMES = {"route", "kind", "uid", "node", "ts", "session_key", "join_key", "joins", "supplement", "payload", "out"};
    static final TypeInformation<Row> IN = Types.ROW_NAMED(IN_NAMES, Types.STRING, Types.STRING, Types.STRING, Types.STRING,
            Types.LONG, Types.STRING, Types.STRING, Types.MAP(Types.STRING, Types.STRING), Types.BOOLEAN,
            Types.PRIMITIVE_ARRAY(Types.BYTE), Types.ROW_NAMED(new String[] {"kind", "session_key", "header", "payloads"},
                    Types.STRING, Types.STRING, Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE)));
    static final TypeInformation<Row> OUT = Types.ROW_NAMED(new String[] {"kind", "session_key", "header", "payloads"},
            Types.STRING, Types.STRING, Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE));

    private Wire() {}

    @SuppressWarnings("unchecked")
    static Ev event(Row row) {
        return new Ev((String) row.getField(2), (String) row.getField(3), (Long) row.getField(4), (String) row.getField(5),
                (String) row.getField(6), (Map<String, String>) row.getField(7), Boolean.TRUE.equals(row.getField(8)),
                (byte[]) row.getField(9));
    }

    /** An event addressed to a session key (the JVM session stage's input). */
    static Row toSession(String sessionKey, Ev e) {
        return Row.of(sessionKey, EVENT, e.uid, e.node, e.ts, e.sessionKey, e.joinKey, e.joins, e.supplement, e.payload, null);
    }

    /** Something for the sink that passes through the session stage unchanged (a late supplement, an orphan). */
    static Row passOut(Row out) {
        return Row.of("", OUTPUT, null, null, 0L, null, null, null, false, null, out);
    }

    static Row out(String sessionKey, Out out) {
        ByteArrayOutputStream payloads = new ByteArrayOutputStream();
        if (out.kind == Out.Kind.EMISSION) {
            for (Ev e : out.baseline) append(payloads, e.payload);
            for (Ev e : out.supplements) append(payloads, e.payload);
        } else {
            append(payloads, out.event.payload);
        }
        return Row.of(out.kind.name().substring(0, 1), sessionKey, Out.encodeAll(List.of(out)), payloads.toByteArray());
    }

    /** A failure on one record or timer: a dead letter naming it, never a failed job (SPEC §7). */
    static Row error(String where, Object subject, Throwable failure) {
        String message = "job error in " + where + ": " + failure + " [" + subject + "]";
        return Row.of("J", null, message.length() > 500 ? message.substring(0, 500) : message, new byte[0]);
    }

    private static void append(ByteArrayOutputStream buffer, byte[] payload) {
        byte[] bytes = payload == null ? new byte[0] : payload;
        buffer.write(ByteBuffer.allocate(4).putInt(bytes.length).array(), 0, 4);
        buffer.write(bytes, 0, bytes.length);
    }
}
