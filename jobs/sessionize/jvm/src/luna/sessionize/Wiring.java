package luna.sessionize;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.types.Row;

/** Called from Python (pipeline.py) through Py4J: parsed rows → join-value stage → session stage → rows to assemble. */
public final class Wiring {
    private Wiring() {}

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
