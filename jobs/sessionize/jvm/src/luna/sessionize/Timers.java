package luna.sessionize;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.streaming.api.TimerService;

/** One pending event-time timer per key, moved rather than multiplied (each firing costs a state read). */
final class Timers {
    private Timers() {}

    static void move(TimerService timers, ValueState<Long> armed, Long due, long watermark) throws Exception {
        Long current = armed.value();
        if (java.util.Objects.equals(current, due)) return;
        if (current != null) timers.deleteEventTimeTimer(current);
        if (due == null) {
            armed.clear();
        } else {
            timers.registerEventTimeTimer(due);  // at or before the watermark: fires at its next advance
            armed.update(due);
        }
    }
}
