package luna.sessionize;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.types.Row;

/** Called from Python (pipeline.py) through Py4J: parsed rows → join-value stage → session stage → rows to assemble. */
public final class Wiring {
    private Wiring() {}

    public static DataStream<Row> correlate(DataStream<Row> parsed, String spec, long timeoutMs) {
        DataStream<Row> routed = parsed
                .keyBy(row -> (String) row.getField(0), org.apache.flink.api.common.typeinfo.Types.STRING)
                .process(new RouteFunction(spec), Wire.IN).name("route-by-join-value (JVM)");
        return routed
                .keyBy(row -> (String) row.getField(0), org.apache.flink.api.common.typeinfo.Types.STRING)
                .process(new SessionFunction(spec, timeoutMs), Wire.OUT).name("correlate-sessions (JVM)");
    }
}
