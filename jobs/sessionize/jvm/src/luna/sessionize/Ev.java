package luna.sessionize;

import java.io.Serializable;
import java.util.Comparator;
import java.util.Map;

/**
 * A parsed event as the state machines see it: identity, node, time and join values. `payload` is opaque here
 * (what the Python side needs to assemble the session document) and travels back out with each revision.
 */
public final class Ev implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Python's sort key (ts, uid): uids are ASCII hex, so String order equals Python's str order. */
    static final Comparator<Ev> ORDER = Comparator.<Ev>comparingLong(e -> e.ts).thenComparing(e -> e.uid);

    public final String uid;
    public final String node;
    public final long ts;
    public final String sessionKey;
    public final String joinKey;
    public final Map<String, String> joins;
    public final boolean supplement;
    public final byte[] payload;

    public Ev(String uid, String node, long ts, String sessionKey, String joinKey, Map<String, String> joins,
              boolean supplement, byte[] payload) {
        this.uid = uid;
        this.node = node;
        this.ts = ts;
        this.sessionKey = sessionKey;
        this.joinKey = joinKey;
        this.joins = joins;
        this.supplement = supplement;
        this.payload = payload;
    }
}
