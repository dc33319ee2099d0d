package luna.sessionize;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sessions of one session key: the JVM twin of Python's SessionKeyState (jobs/sessionize/logic/sessions.py),
 * which stays the reference; tests/test_jvm_machine.py requires both to emit the same revisions for the same
 * histories. Gap clusters are recomputed from the events held, so sessions depend on the set of events only.
 *
 * Where Python compares the digest of an assembled document to skip unchanged revisions, this compares what the
 * document is a pure function of: the kept events (supplement nodes without `many` keep their first match), the
 * status, the neighbours and the template version.
 */
public final class SessionMachine implements Serializable {
    private static final long serialVersionUID = 1L;
    static final long NEVER = -(1L << 62);

    static final class Cluster {
        final List<Ev> baseline = new ArrayList<>();
        final List<Ev> supplements = new ArrayList<>();

        long first() { return baseline.get(0).ts; }

        long last() { return baseline.get(baseline.size() - 1).ts; }
    }

    static final class Emitted implements Serializable {
        private static final long serialVersionUID = 1L;
        final long first;
        final long last;
        final List<Object> content;
        List<Object> signature;
        final boolean closed;

        Emitted(long first, long last, List<Object> content, List<Object> signature, boolean closed) {
            this.first = first;
            this.last = last;
            this.content = content;
            this.signature = signature;
            this.closed = closed;
        }
    }

    final String sessionKey;
    final LinkedHashMap<String, Ev> baseline = new LinkedHashMap<>();
    final LinkedHashMap<String, Ev> supplements = new LinkedHashMap<>();
    final LinkedHashMap<Long, Emitted> emitted = new LinkedHashMap<>();  // by the session's first event time
    final List<long[]> tombstones = new ArrayList<>();                      // {first, last} of purged sessions
    long revision = 0;
    long closedUntil = NEVER;  // clusters ending (last + gap) at or before this are closed

    public SessionMachine(String sessionKey) {
        this.sessionKey = sessionKey;
    }

    // -- inputs ----------------------------------------------------------------------------------------------
    /** One event (baseline or an already-routed supplement); emits at once when the rules say so. */
    public List<Out> add(Rules rules, Ev event, long watermark) {
        List<Out> out = new ArrayList<>();
        if (baseline.containsKey(event.uid) || supplements.containsKey(event.uid)) return out;
        if (event.supplement && rules.supplementHorizon(event) <= watermark) {
            out.add(new Out(Out.Kind.ORPHAN, event, unmatched(rules, event)));
            return out;
        }
        String late = lateReason(rules, event, watermark);
        if (late != null) {
            out.add(new Out(Out.Kind.LATE, event, late));
            return out;
        }
        closedUntil = Math.max(closedUntil, watermark);
        (event.supplement ? supplements : baseline).put(event.uid, event);
        emit(rules, false, out);
        return out;
    }

    /** Close sessions whose gap has passed, expire unmatched supplements, purge finished state. */
    public List<Out> onWatermark(Rules rules, long watermark) {
        List<Out> out = new ArrayList<>();
        closedUntil = Math.max(closedUntil, watermark);
        emit(rules, false, out);
        expireSupplements(rules, watermark, out);
        purge(rules, watermark);
        return out;
    }

    /** Processing-time timeout (quiet source): emit sessions not yet shown, provisionally. */
    public List<Out> onTimeout(Rules rules, long watermark) {
        List<Out> out = new ArrayList<>();
        emit(rules, true, out);
        return out;
    }

    /** Earliest watermark at which onWatermark has work (a close, a supplement expiry, a purge); null: none. */
    public Long nextEventTimer(Rules rules) {
        long min = Long.MAX_VALUE;
        boolean any = false;
        List<Cluster> clusters = clusters(rules);
        Set<String> attached = attached(clusters);
        for (Cluster c : clusters) {
            long close = c.last() + rules.gapMs;
            if (close > closedUntil) min = Math.min(min, close);
            min = Math.min(min, purgeAt(rules, c));
            any = true;
        }
        for (Ev s : supplements.values()) {
            if (!attached.contains(s.uid)) {
                min = Math.min(min, rules.supplementHorizon(s));
                any = true;
            }
        }
        if (!tombstones.isEmpty() && baseline.isEmpty() && supplements.isEmpty()) {
            min = Math.min(min, forgetAt(rules));
            any = true;
        }
        return any ? min : null;
    }

    public boolean isEmpty() {
        return baseline.isEmpty() && supplements.isEmpty() && tombstones.isEmpty();
    }

    // -- derivations -----------------------------------------------------------------------------------------
    List<Cluster> clusters(Rules rules) {
        List<Ev> events = new ArrayList<>(baseline.values());
        events.sort(Ev.ORDER);
        List<Cluster> clusters = new ArrayList<>();
        for (Ev event : events) {
            Cluster tail = clusters.isEmpty() ? null : clusters.get(clusters.size() - 1);
            if (tail == null || event.ts - tail.last() > rules.gapMs) {
                tail = new Cluster();
                clusters.add(tail);
            }
            tail.baseline.add(event);
        }
        List<Ev> waiting = new ArrayList<>(supplements.values());
        waiting.sort(Ev.ORDER);
        for (Ev supplement : waiting) {
            Cluster target = matchingCluster(rules, clusters, supplement);
            if (target != null) target.supplements.add(supplement);
        }
        return clusters;
    }

    private static Cluster matchingCluster(Rules rules, List<Cluster> clusters, Ev supplement) {
        Rules.Node join = rules.node(supplement.node);
        for (Cluster cluster : clusters) {
            for (Ev base : cluster.baseline) {
                if (supplement.joinKey.equals(base.joins.get(join.joinOn))
                        && base.ts + join.lowerMs <= supplement.ts && supplement.ts <= base.ts + join.upperMs) {
                    return cluster;
                }
            }
        }
        return null;
    }

    private static Set<String> attached(List<Cluster> clusters) {
        Set<String> attached = new HashSet<>();
        for (Cluster c : clusters) for (Ev s : c.supplements) attached.add(s.uid);
        return attached;
    }

    private void emit(Rules rules, boolean timeout, List<Out> out) {
        List<Cluster> clusters = clusters(rules);
        int n = tombstones.size() + clusters.size();
        for (int index = 0; index < clusters.size(); index++) {
            Cluster cluster = clusters.get(index);
            long first = cluster.first();
            boolean closed = cluster.last() + rules.gapMs <= closedUntil;
            int position = tombstones.size() + index;
            Long prev = position > 0 ? sessionFirst(clusters, position - 1) : null;
            Long next = position + 1 < n ? sessionFirst(clusters, position + 1) : null;
            List<Long> merged = new ArrayList<>();
            for (Map.Entry<Long, Emitted> e : emitted.entrySet()) {
                if (e.getKey() != first && e.getValue().last >= first && e.getValue().first <= cluster.last()) merged.add(e.getKey());
            }
            Emitted previous = emitted.get(first);
            if (!(closed || previous != null || !merged.isEmpty() || timeout || complete(rules, cluster))) continue;
            List<Object> signature = list(eventUids(cluster), closed, prev, next);
            if (previous != null && previous.signature.equals(signature) && merged.isEmpty()) continue;
            List<Object> content = content(rules, cluster, closed, prev, next);
            if (previous != null && previous.content.equals(content) && merged.isEmpty()) {
                previous.signature = signature;
                continue;
            }
            for (Long gone : merged) emitted.remove(gone);
            revision += 1;
            emitted.put(first, new Emitted(first, cluster.last(), content, signature, closed));
            long[] replaces = merged.stream().mapToLong(Long::longValue).toArray();
            out.add(Out.emission(revision, cause(previous, merged, closed, timeout), closed, first, prev, next, replaces,
                    cluster.baseline, cluster.supplements));
        }
    }

    /** A plain ArrayList: the state goes through Flink's Kryo serializer, so it keeps to plain collection types. */
    private static List<Object> list(Object... items) {
        return new ArrayList<>(Arrays.asList(items));
    }

    private long sessionFirst(List<Cluster> clusters, int position) {
        return position < tombstones.size() ? tombstones.get(position)[0] : clusters.get(position - tombstones.size()).first();
    }

    private static Set<String> eventUids(Cluster cluster) {
        Set<String> uids = new HashSet<>();
        for (Ev e : cluster.baseline) uids.add(e.uid);
        for (Ev e : cluster.supplements) uids.add(e.uid);
        return uids;
    }

    /** What the assembled document is a pure function of (assemble.kept_node_events + status + links). */
    private static List<Object> content(Rules rules, Cluster cluster, boolean closed, Long prev, Long next) {
        List<String> kept = new ArrayList<>();
        for (Ev e : cluster.baseline) kept.add(e.uid);
        Set<String> firstOnly = new HashSet<>();
        for (Ev s : cluster.supplements) {  // sorted by (ts, uid): the first of a node is its kept one
            if (rules.node(s.node).many || firstOnly.add(s.node)) kept.add(s.uid);
        }
        kept.sort(null);
        String status = complete(rules, cluster) ? "complete" : closed ? "closed" : "open";
        return list(kept, status, prev, next, rules.version);
    }

    private static boolean complete(Rules rules, Cluster cluster) {
        Set<String> present = new HashSet<>();
        for (Ev e : cluster.baseline) present.add(e.node);
        for (Ev e : cluster.supplements) present.add(e.node);
        return present.containsAll(rules.completeWhen);
    }

    private static String cause(Emitted previous, List<Long> merged, boolean closed, boolean timeout) {
        if (!merged.isEmpty()) return "merge";
        if (timeout && !closed) return "timeout";
        if (closed && (previous == null || !previous.closed)) return "close";
        return previous != null ? "update" : "early_fire";
    }

    // -- lifecycle -------------------------------------------------------------------------------------------
    private String lateReason(Rules rules, Ev event, long watermark) {
        if (event.supplement) return null;
        if (event.ts + rules.gapMs + rules.latenessMs <= watermark) return "event later than allowed_lateness";
        if (!tombstones.isEmpty() && event.ts <= tombstones.get(tombstones.size() - 1)[1] + rules.gapMs) {
            return "event belongs to a session already finalised";
        }
        return null;
    }

    static String unmatched(Rules rules, Ev supplement) {
        return "no baseline event with " + rules.node(supplement.node).joinOn + "=" + supplement.joinKey + " within the join interval";
    }

    private void expireSupplements(Rules rules, long watermark, List<Out> out) {
        Set<String> attached = attached(clusters(rules));
        for (Iterator<Ev> it = supplements.values().iterator(); it.hasNext(); ) {
            Ev s = it.next();
            if (!attached.contains(s.uid) && rules.supplementHorizon(s) <= watermark) {
                it.remove();
                out.add(new Out(Out.Kind.ORPHAN, s, unmatched(rules, s)));
            }
        }
    }

    /** Kept while a baseline event may arrive on time (gap + lateness) and a supplement may still join it. */
    private static long purgeAt(Rules rules, Cluster cluster) {
        return cluster.last() + rules.gapMs + rules.latenessMs + rules.joinHoldMs;
    }

    private void purge(Rules rules, long watermark) {
        for (Cluster cluster : clusters(rules)) {
            if (purgeAt(rules, cluster) > watermark) continue;
            for (Ev e : cluster.baseline) baseline.remove(e.uid);
            for (Ev e : cluster.supplements) supplements.remove(e.uid);
            emitted.remove(cluster.first());
            tombstones.add(new long[] {cluster.first(), cluster.last()});
        }
        if (!tombstones.isEmpty() && baseline.isEmpty() && supplements.isEmpty() && forgetAt(rules) <= watermark) tombstones.clear();
    }

    /** Tombstones are kept long enough to link a crash-resumed session to its first half. */
    private long forgetAt(Rules rules) {
        return tombstones.get(tombstones.size() - 1)[1] + 2 * (rules.gapMs + rules.latenessMs);
    }
}
