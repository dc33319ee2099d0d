package luna.sessionize;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/** Keyed by join value: the JoinRouter of the key, one coalesced event-time timer (Python's RouteSupplements). */
public final class RouteFunction extends KeyedBroadcastProcessFunction<String, Row, Row, Row> {
    private static final long serialVersionUID = 1L;
    private final FollowRules follow;
    private transient ValueState<JoinRouter> state;
    private transient ValueState<Long> armed;

    public RouteFunction(String spec) {
        this.follow = new FollowRules(spec);
    }

    @Override
    public void open(OpenContext context) {
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("join-router", StateTypes.ROUTER));
        armed = getRuntimeContext().getState(new ValueStateDescriptor<>("join-armed", Types.LONG));
    }

    @Override
    public void processBroadcastElement(Row update, Context ctx, Collector<Row> out) throws Exception {
        if (follow.offer(update)) ctx.getBroadcastState(FollowRules.SPECS).put(FollowRules.CURRENT, (String) update.getField(1));
    }

    @Override
    public void processElement(Row row, ReadOnlyContext ctx, Collector<Row> out) throws Exception {
        String kind = (String) row.getField(1);
        if (Wire.PASS.equals(kind)) {
            out.collect(Wire.toSession((String) row.getField(5), Wire.event(row)));
            return;
        }
        try {
            Rules rules = follow.current(ctx.getBroadcastState(FollowRules.SPECS));
            JoinRouter router = state.value();
            if (router == null) router = new JoinRouter();
            Ev event = Wire.event(row);
            java.util.List<Out> routed;
            if (Wire.SUPPLEMENT.equals(kind)) {
                routed = router.onSupplement(rules, event, ctx.timerService().currentWatermark());
            } else {
                if (Wire.BASELINE.equals(kind)) out.collect(Wire.toSession(event.sessionKey, event));
                routed = router.onBaseline(event.sessionKey, event.ts);
            }
            for (Out item : routed) {
                out.collect(item.kind == Out.Kind.ROUTED ? Wire.toSession(item.text, item.event) : Wire.passOut(Wire.out("", item)));
            }
            store(ctx, rules, router);
        } catch (RuntimeException failure) {
            out.collect(Wire.passOut(Wire.error("RouteFunction", row.getField(2), failure)));
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Row> out) throws Exception {
        JoinRouter router = state.value();
        if (router == null) return;
        if (Long.valueOf(timestamp).equals(armed.value())) armed.clear();
        try {
            Rules rules = follow.current(ctx.getBroadcastState(FollowRules.SPECS));
            for (Out orphan : router.expire(rules, ctx.timerService().currentWatermark())) out.collect(Wire.passOut(Wire.out("", orphan)));
            store(ctx, rules, router);
        } catch (RuntimeException failure) {
            out.collect(Wire.passOut(Wire.error("RouteFunction.onTimer", ctx.getCurrentKey(), failure)));
        }
    }

    private void store(ReadOnlyContext ctx, Rules rules, JoinRouter router) throws Exception {
        Long due = router.isEmpty() ? null : router.nextTimer(rules);
        Timers.move(ctx.timerService(), armed, due, ctx.timerService().currentWatermark());
        if (router.isEmpty()) state.clear();
        else state.update(router);
    }
}
