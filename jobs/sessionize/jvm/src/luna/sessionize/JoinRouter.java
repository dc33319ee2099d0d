package luna.sessionize;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * State of one join value (e.g. a trans_id): the session keys that own it and the supplements seen for it. The
 * JVM twin of Python's JoinKeyState (jobs/sessionize/logic/router.py); the session stage does the exact
 * interval check, so a supplement is forwarded to every owner.
 */
public final class JoinRouter implements Serializable {
    private static final long serialVersionUID = 1L;

    final LinkedHashMap<String, Long> owners = new LinkedHashMap<>();  // session key -> latest baseline ts seen
    final LinkedHashMap<String, Ev> waiting = new LinkedHashMap<>();
    final Set<String> forwarded = new HashSet<>();

    /** Remember the owner; hand it every supplement seen so far (duplicates are dropped downstream). */
    public List<Out> onBaseline(String sessionKey, long ts) {
        List<Out> out = new ArrayList<>();
        Long known = owners.get(sessionKey);
        owners.put(sessionKey, known == null ? ts : Math.max(ts, known));
        if (known != null) return out;
        forwarded.addAll(waiting.keySet());
        for (Ev event : waiting.values()) out.add(new Out(Out.Kind.ROUTED, event, sessionKey));
        return out;
    }

    /** Forward to known owners and keep it for later ones; past its horizon it goes to the late queue. */
    public List<Out> onSupplement(Rules rules, Ev event, long watermark) {
        List<Out> out = new ArrayList<>();
        if (waiting.containsKey(event.uid)) return out;
        if (rules.supplementHorizon(event) <= watermark) {
            out.add(new Out(Out.Kind.LATE, event, "supplement later than allowed_lateness"));
            return out;
        }
        waiting.put(event.uid, event);
        if (!owners.isEmpty()) forwarded.add(event.uid);
        for (String key : owners.keySet()) out.add(new Out(Out.Kind.ROUTED, event, key));
        return out;
    }

    /** Forget what no on-time event can still need; supplements nobody claimed become orphans. */
    public List<Out> expire(Rules rules, long watermark) {
        long reach = rules.joinReach();
        List<Out> out = new ArrayList<>();
        for (Iterator<Ev> it = waiting.values().iterator(); it.hasNext(); ) {
            Ev event = it.next();
            if (event.ts + reach <= watermark) {
                it.remove();
                if (!forwarded.remove(event.uid)) {
                    String reason = "no baseline event carries " + rules.node(event.node).joinOn + "=" + event.joinKey;
                    out.add(new Out(Out.Kind.ORPHAN, event, reason));
                }
            }
        }
        owners.values().removeIf(ts -> ts + reach <= watermark);
        return out;
    }

    public Long nextTimer(Rules rules) {
        long reach = rules.joinReach();
        Long min = null;
        for (Ev e : waiting.values()) min = min == null ? e.ts + reach : Math.min(min, e.ts + reach);
        for (Map.Entry<String, Long> o : owners.entrySet()) min = min == null ? o.getValue() + reach : Math.min(min, o.getValue() + reach);
        return min;
    }

    public boolean isEmpty() {
        return waiting.isEmpty() && owners.isEmpty();
    }
}
