package luna.sessionize;

import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.types.Row;

/**
 * The rules a keyed function applies: the run's version, replaced by a newer published version from the
 * broadcast control stream (rows `(version, spec)` that Python compiles from the template document). The newest is
 * kept in broadcast state, so it is back after a restore although the control file is not re-read.
 */
final class FollowRules implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    static final MapStateDescriptor<String, String> SPECS = new MapStateDescriptor<>("rules-updates", Types.STRING, Types.STRING);
    static final String CURRENT = "current";

    private final String initial;
    private transient Rules rules;
    private transient boolean synced;

    FollowRules(String spec) {
        this.initial = spec;
    }

    /** The newest rules: after a restore the broadcast state may hold a newer version than the run's. */
    Rules current(ReadOnlyBroadcastState<String, String> state) throws Exception {
        if (rules == null) rules = Rules.parse(initial);
        if (!synced) {
            synced = true;
            String stored = state.get(CURRENT);
            if (stored != null) apply(stored);
        }
        return rules;
    }

    /** A published version: applied when newer; true when the caller should store it. */
    boolean offer(Row update) {
        if (rules == null) rules = Rules.parse(initial);
        Integer version = (Integer) update.getField(0);
        String spec = (String) update.getField(1);
        return version != null && version > rules.version && spec != null && !spec.isEmpty() && apply(spec);
    }

    private boolean apply(String spec) {
        Rules next = Rules.parse(spec);
        if (next.version <= rules.version) return false;
        rules = next;
        return true;
    }
}
