package luna.sessionize;

import java.util.List;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Keyed by session key: the SessionMachine of the key, one coalesced event-time timer (close, expiry, purge) and
 * one processing-time timer for the quiet-source timeout, as Python's CorrelateSessions arms them. Emits one row
 * per session revision, late event or orphan for Python's assembly; rows for the sink pass through.
 */
public final class SessionFunction extends KeyedBroadcastProcessFunction<String, Row, Row, Row> {
    private static final long serialVersionUID = 1L;
    static final long TIMEOUT_GRANULARITY_MS = 1000;
    private final FollowRules follow;
    private final boolean timeouts;  // false: a backfill holding event time until its end
    private transient ValueState<SessionMachine> state;
    private transient ValueState<Long> armed;
    private transient ValueState<Long> armedTimeout;

    public SessionFunction(String spec, boolean timeouts) {
        this.follow = new FollowRules(spec);
        this.timeouts = timeouts;
    }

    @Override
    public void open(OpenContext context) {
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("session-machine", StateTypes.SESSION));
        armed = getRuntimeContext().getState(new ValueStateDescriptor<>("session-armed", Types.LONG));
        armedTimeout = getRuntimeContext().getState(new ValueStateDescriptor<>("session-timeout", Types.LONG));
    }

    @Override
    public void processBroadcastElement(Row update, Context ctx, Collector<Row> out) throws Exception {
        if (follow.offer(update)) ctx.getBroadcastState(FollowRules.SPECS).put(FollowRules.CURRENT, (String) update.getField(1));
    }

    @Override
    public void processElement(Row row, ReadOnlyContext ctx, Collector<Row> out) throws Exception {
        if (Wire.OUTPUT.equals(row.getField(1))) {
            out.collect((Row) row.getField(10));
            return;
        }
        String key = ctx.getCurrentKey();
        try {
            Rules rules = follow.current(ctx.getBroadcastState(FollowRules.SPECS));
            SessionMachine machine = state.value();
            if (machine == null) machine = new SessionMachine(key);
            collect(key, machine.add(rules, Wire.event(row), ctx.timerService().currentWatermark()), out);
            if (timeouts) {
                long now = ctx.timerService().currentProcessingTime();
                long due = (now + rules.timeoutMs) / TIMEOUT_GRANULARITY_MS * TIMEOUT_GRANULARITY_MS + TIMEOUT_GRANULARITY_MS;
                Long pending = armedTimeout.value();
                if (pending == null || pending != due) {  // the quiet period restarts: one timeout pending
                    if (pending != null) ctx.timerService().deleteProcessingTimeTimer(pending);
                    ctx.timerService().registerProcessingTimeTimer(due);
                    armedTimeout.update(due);
                }
            }
            store(ctx, rules, machine);
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
            Rules rules = follow.current(ctx.getBroadcastState(FollowRules.SPECS));
            if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
                if (Long.valueOf(timestamp).equals(armedTimeout.value())) armedTimeout.clear();
                collect(key, machine.onTimeout(rules, watermark), out);
            } else {
                if (Long.valueOf(timestamp).equals(armed.value())) armed.clear();
                collect(key, machine.onWatermark(rules, watermark), out);
            }
            store(ctx, rules, machine);
        } catch (RuntimeException failure) {
            out.collect(Wire.error("SessionFunction.onTimer", key + " " + timestamp, failure));
        }
    }

    private static void collect(String key, List<Out> outs, Collector<Row> out) {
        for (Out item : outs) out.collect(Wire.out(key, item));
    }

    /** Keep the machine and move its timer, or forget the key with its pending timers. */
    private void store(ReadOnlyContext ctx, Rules rules, SessionMachine machine) throws Exception {
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
