package luna.sessionize;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Rows the SQL classification read (source, line, origin, rt, tokens, node) → the join-value stage's input rows
 * (Wire.IN), addressed as Python's ParseLine addresses events; a row whose node SQL left open ('?') or whose keys are
 * not plain strings goes to the PYTHON side output, where the reference parser decides. Nothing here reads JSON.
 *
 * The payload of such an event is `T` source, node, ts, line, origin separated by U+001F (UTF-8): Python rebuilds the
 * event from the line once per session revision (`records.event_from_line`), not once per line.
 */
public final class SqlRows extends ProcessFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    static final TypeInformation<Row> RAW = Types.ROW_NAMED(new String[] {"source", "line", "origin"}, Types.STRING, Types.STRING, Types.STRING);

    private final String spec;
    private final boolean open;  // true: emit only the rows Python must parse (as RAW rows), else only the events
    private transient Map<String, Source> sources;
    private transient Map<String, Node> nodes;

    public SqlRows(String spec, boolean open) {
        this.spec = spec;
        this.open = open;
    }

    /** One source's addressing: token index of the session key and of each join field it carries. */
    private static final class Source {
        int key = -1;
        String[] joinFields = new String[0];
        int[] joinIndexes = new int[0];
    }

    private static final class Node {
        String on;  // supplement: its join field, else null
        int onIndex;
    }

    private void load() {
        sources = new HashMap<>();
        nodes = new HashMap<>();
        for (String line : spec.split("\n")) {
            String[] p = line.split(" ");
            if (p[0].equals("source")) {
                Source s = new Source();
                s.key = Integer.parseInt(p[2]);
                int n = p.length - 3;
                s.joinFields = new String[n];
                s.joinIndexes = new int[n];
                for (int i = 0; i < n; i++) {
                    String[] pair = p[3 + i].split(":");
                    s.joinFields[i] = pair[0];
                    s.joinIndexes[i] = Integer.parseInt(pair[1]);
                }
                sources.put(p[1], s);
            } else if (p[0].equals("node")) {
                Node n = new Node();
                if (p.length > 2) {
                    n.on = p[2];
                    n.onIndex = Integer.parseInt(p[3]);
                }
                nodes.put(p[1], n);
            }
        }
    }

    @Override
    public void processElement(Row row, Context ctx, Collector<Row> out) {
        if (sources == null) load();
        String source = (String) row.getField(0), line = (String) row.getField(1), origin = (String) row.getField(2);
        String[] tokens = (String[]) row.getField(4);
        String nodeName = (String) row.getField(5);
        Row event = nodeName == null || tokens == null ? null : address(source, line, origin == null ? "" : origin, tokens, nodeName);
        if (open) {
            if (event == null) out.collect(Row.of(source, line, origin));
        } else if (event != null && event.getArity() > 0) {
            out.collect(event);
        }
    }

    /** The event row, an empty row for a line no node uses (Python ignores it too), or null: Python decides. */
    public Row address(String source, String line, String origin, String[] tokens, String nodeName) {
        if (sources == null) load();
        if (nodeName.equals("?")) return null;
        if (nodeName.isEmpty()) return new Row(0);
        Node node = nodes.get(nodeName);
        Source src = sources.get(source);
        long ts = Long.parseLong(tokens[0]);
        String uid = Blake2b.lineUid(source, line);
        byte[] payload = ("T" + source + "\u001f" + nodeName + "\u001f" + ts + "\u001f" + line + "\u001f" + origin).getBytes(StandardCharsets.UTF_8);
        if (node.on != null) {
            String joinKey = plain(tokens[node.onIndex]);
            if (joinKey == null || joinKey.isEmpty()) return null;
            return Row.of(node.on + "\0" + joinKey, Wire.SUPPLEMENT, uid, nodeName, ts, null, joinKey, new HashMap<String, String>(), true, payload, null);
        }
        String key = src.key < 0 ? null : plain(tokens[src.key]);
        if (key == null || key.isEmpty()) return null;
        Map<String, String> joins = new HashMap<>();
        String route = key, kind = Wire.PASS;
        for (int i = 0; i < src.joinFields.length; i++) {
            String token = tokens[src.joinIndexes[i]];
            if (token == null) continue;
            String value = plain(token);
            if (value == null || joins.size() == 1 && !value.isEmpty()) return null;  // not a string, or a second join value (Python registers owners)
            if (value.isEmpty()) continue;
            joins.put(src.joinFields[i], value);
            route = src.joinFields[i] + "\0" + value;
            kind = Wire.BASELINE;
        }
        return Row.of(route, kind, uid, nodeName, ts, key, null, joins, false, payload, null);
    }

    /** A string token's text; null for any other token (Python's str() of a number or bool is not attempted here). */
    private static String plain(String token) {
        return token != null && token.startsWith("s") ? token.substring(1) : null;
    }
}
