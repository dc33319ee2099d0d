package luna.sessionize;

import java.io.Serializable;
import java.util.List;

/**
 * One output of a state machine: a session revision to assemble (EMISSION), an event for the late queue (LATE),
 * an unmatched supplement (ORPHAN), or a supplement addressed to a session key (ROUTED, from the join stage).
 * Sessions are named by their first event time: the uid is a hash of (template, key, first), computed in Python.
 */
public final class Out implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum Kind { EMISSION, LATE, ORPHAN, ROUTED }

    public final Kind kind;
    public final Ev event;        // LATE, ORPHAN, ROUTED
    public final String text;     // LATE/ORPHAN: the reason; ROUTED: the session key
    public long revision;
    public String cause;
    public boolean closed;
    public long first;
    public Long prevFirst;
    public Long nextFirst;
    public long[] replaces;       // first times of the sessions this revision merged away
    public List<Ev> baseline;     // the cluster, sorted by (ts, uid)
    public List<Ev> supplements;  // attached supplements, sorted by (ts, uid)

    Out(Kind kind, Ev event, String text) {
        this.kind = kind;
        this.event = event;
        this.text = text;
    }

    static Out emission(long revision, String cause, boolean closed, long first, Long prevFirst, Long nextFirst,
                        long[] replaces, List<Ev> baseline, List<Ev> supplements) {
        Out out = new Out(Kind.EMISSION, null, null);
        out.revision = revision;
        out.cause = cause;
        out.closed = closed;
        out.first = first;
        out.prevFirst = prevFirst;
        out.nextFirst = nextFirst;
        out.replaces = replaces;
        out.baseline = baseline;
        out.supplements = supplements;
        return out;
    }

    /** One line per output for a Py4J caller (one crossing for a whole call): tab-separated fields, free text
     *  last, with backslash and newline escaped. */
    public static String encodeAll(List<Out> outs) {
        StringBuilder text = new StringBuilder();
        for (Out out : outs) {
            if (text.length() > 0) text.append('\n');
            out.encode(text);
        }
        return text.toString();
    }

    private void encode(StringBuilder b) {
        if (kind != Kind.EMISSION) {
            b.append(kind.name().charAt(0)).append('\t').append(event.uid).append('\t')
             .append(text.replace("\\", "\\\\").replace("\n", "\\n"));
            return;
        }
        b.append("E\t").append(revision).append('\t').append(cause).append('\t').append(closed ? 1 : 0).append('\t')
         .append(first).append('\t').append(prevFirst == null ? "" : prevFirst).append('\t')
         .append(nextFirst == null ? "" : nextFirst).append('\t');
        for (int i = 0; i < replaces.length; i++) b.append(i > 0 ? "," : "").append(replaces[i]);
        b.append('\t');
        uids(b, baseline);
        b.append('\t');
        uids(b, supplements);
    }

    private static void uids(StringBuilder b, List<Ev> events) {
        for (int i = 0; i < events.size(); i++) b.append(i > 0 ? "," : "").append(events.get(i).uid);
    }
}
