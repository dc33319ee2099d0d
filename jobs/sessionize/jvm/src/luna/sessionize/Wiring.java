package luna.sessionize;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.types.Row;

/** Called from Python (pipeline.py) through Py4J: parsed rows → join-value stage → session stage → rows to assemble. */
public final class Wiring {
    private Wiring() {}

    /** SQL-classified rows → addressed events (Wire.IN). */
    public static SingleOutputStreamOperator<Row> address(DataStream<Row> classified, String spec) {
        return classified.process(new SqlRows(spec, false), Wire.IN).name("address (JVM)");
    }

    /** The rows SQL left open, (source, line, origin) for Python's parser. */
    public static SingleOutputStreamOperator<Row> open(DataStream<Row> classified, String spec) {
        return classified.process(new SqlRows(spec, true), SqlRows.RAW).name("rows for Python (JVM)");
    }

    /** One stream of Wire.IN rows from any number of producers (Python's row type info may differ in class, not shape). */
    @SafeVarargs
    public static DataStream<Row> union(DataStream<Row>... streams) {
        DataStream<Row> all = null;
        for (DataStream<Row> stream : streams) {
            DataStream<Row> typed = Wire.IN.equals(stream.getType()) ? stream : stream.map(row -> row, Wire.IN).name("as rows (JVM)");
            all = all == null ? typed : all.union(typed);
        }
        return all;
    }

    /** The control stream without event time (see Timeless). */
    public static <T> SingleOutputStreamOperator<T> timeless(DataStream<T> control) {
        return control.transform("timeless", control.getType(), new Timeless<T>()).name("timeless (JVM)");
    }

    /** The parse-only benchmark's end: rows consumed in Java, nothing after. */
    public static void discard(DataStream<Row> rows) {
        rows.sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>()).name("discard (JVM)");
    }

    /**
     * Sink records (SINK_BYTES: the partition in the first 2 bytes, then the pickle) → (partition, record) rows, the
     * shape PyFlink's key_by hands a Python keyed function, computed here instead of in a Python map operator.
     */
    public static SingleOutputStreamOperator<Row> sinkKeys(DataStream<byte[]> records, int partitions) {
        int modulo = Math.max(1, partitions);
        return records.map(bytes -> Row.of((((bytes[0] & 0xff) << 8) | (bytes[1] & 0xff)) % modulo, bytes),
                Types.ROW(Types.INT, Types.PRIMITIVE_ARRAY(Types.BYTE))).name("sink partition (JVM)");
    }

    /** The session stage's rows in sink batches, each session's newest revision only (see RevisionBatches). */
    public static SingleOutputStreamOperator<Row> batches(DataStream<Row> rows, int partitions, int flushRows, long intervalMs,
                                                          boolean bounded) {
        return rows.keyBy(row -> RevisionBatches.partition(row, partitions), Types.INT)
                .process(new RevisionBatches(flushRows, intervalMs, bounded), Wire.OUT).name("fold revisions (JVM)");
    }

    /** `updates`: published versions as rows (version INT, rules spec STRING), broadcast to both stages. */
    public static DataStream<Row> correlate(DataStream<Row> parsed, DataStream<Row> updates, String spec, boolean timeouts) {
        BroadcastStream<Row> rules = updates.broadcast(FollowRules.SPECS);
        DataStream<Row> routed = parsed
                .keyBy(row -> (String) row.getField(0), Types.STRING).connect(rules)
                .process(new RouteFunction(spec), Wire.IN).name("route-by-join-value (JVM)");
        return routed
                .keyBy(row -> (String) row.getField(0), Types.STRING).connect(rules)
                .process(new SessionFunction(spec, timeouts), Wire.OUT).name("correlate-sessions (JVM)");
    }
}
