package luna.sessionize;

import java.util.List;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Keyed by session key: the SessionMachine of the key, one coalesced event-time timer (close, expiry, purge) and
 * one processing-time timer for the quiet-source timeout, as Python's CorrelateSessions arms them. Emits one row
 * per session revision, late event or orphan for Python's assembly; rows for the sink pass through.
 */
public final class SessionFunction extends KeyedProcessFunction<String, Row, Row> {
    private static final long serialVersionUID = 1L;
    static final long TIMEOUT_GRANULARITY_MS = 1000;
    private final String spec;
    private final long timeoutMs;  // <= 0: no timeouts (a backfill holding event time until its end)
    private transient Rules rules;
    private transient ValueState<SessionMachine> state;
    private transient ValueState<Long> armed;
    private transient ValueState<Long> armedTimeout;

    public SessionFunction(String spec, long timeoutMs) {
        this.spec = spec;
        this.timeoutMs = timeoutMs;
    }

    @Override
    public void open(OpenContext context) {
        rules = Rules.parse(spec);
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("session-machine", StateTypes.SESSION));
        armed = getRuntimeContext().getState(new ValueStateDescriptor<>("session-armed", Types.LONG));
        armedTimeout = getRuntimeContext().getState(new ValueStateDescriptor<>("session-timeout", Types.LONG));
    }

    @Override
    public void processElement(Row row, Context ctx, Collector<Row> out) throws Exception {
        if (Wire.OUTPUT.equals(row.getField(1))) {
            out.collect((Row) row.getField(10));
            return;
        }
        String key = ctx.getCurrentKey();
        try {
            SessionMachine machine = state.value();
            if (machine == null) machine = new SessionMachine(key);
            collect(key, machine.add(rules, Wire.event(row), ctx.timerService().currentWatermark()), out);
            if (timeoutMs > 0) {
                long now = ctx.timerService().currentProcessingTime();
                long due = (now + timeoutMs) / TIMEOUT_GRANULARITY_MS * TIMEOUT_GRANULARITY_MS + TIMEOUT_GRANULARITY_MS;
                Long pending = armedTimeout.value();
                if (pending == null || pending != due) {  // the quiet period restarts: one timeout pending
                    if (pending != null) ctx.timerService().deleteProcessingTimeTimer(pending);
                    ctx.timerService().registerProcessingTimeTimer(due);
                    armedTimeout.update(due);
                }
            }
            store(ctx, machine);
        } catch (RuntimeException failure) {
            out.collect(Wire.error("SessionFunction", key + " " + row.getField(2), failure));
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Row> out) throws Exception {
        SessionMachine machine = state.value();
        if (machine == null) return;
        String key = ctx.getCurrentKey();
        long watermark = ctx.timerService().currentWatermark();
        try {
            if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
                if (Long.valueOf(timestamp).equals(armedTimeout.value())) armedTimeout.clear();
                collect(key, machine.onTimeout(rules, watermark), out);
            } else {
                if (Long.valueOf(timestamp).equals(armed.value())) armed.clear();
                collect(key, machine.onWatermark(rules, watermark), out);
            }
            store(ctx, machine);
        } catch (RuntimeException failure) {
            out.collect(Wire.error("SessionFunction.onTimer", key + " " + timestamp, failure));
        }
    }

    private static void collect(String key, List<Out> outs, Collector<Row> out) {
        for (Out item : outs) out.collect(Wire.out(key, item));
    }

    /** Keep the machine and move its timer, or forget the key with its pending timers. */
    private void store(Context ctx, SessionMachine machine) throws Exception {
        boolean forget = machine.isEmpty();
        Timers.move(ctx.timerService(), armed, forget ? null : machine.nextEventTimer(rules), ctx.timerService().currentWatermark());
        if (!forget) {
            state.update(machine);
            return;
        }
        Long pending = armedTimeout.value();
        if (pending != null) ctx.timerService().deleteProcessingTimeTimer(pending);
        armedTimeout.clear();
        state.clear();
    }
}
