package luna.sessionize;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * SQL function `luna_record(line, spec)`: one JSON parse per line → ARRAY<STRING> of [event time ms, field tokens…]
 * for the SQL classification (sql_classify.py writes `spec` and reads the tokens). A token says what Python's
 * `records.parse_line` would hold for the field: `s<text>` a string, `i<digits>` an integer, `f<double>` a float,
 * `o` anything else (bool, object, list, a number Python keeps as text), NULL absent or JSON null.
 *
 * NULL for the whole line when Python might read it differently: not exactly one JSON object from the first to
 * the last character (Jackson with trailing tokens refused), an escaped or lone surrogate, deep nesting. Python
 * then parses the line (and rejects it with its reason when it is bad).
 */
public final class RecordTokens extends ScalarFunction {
    private static final long serialVersionUID = 1L;
    private static final int MAX_BRACKETS = 200;
    private transient ObjectMapper mapper;
    private transient String specText;
    private transient EventTime time;
    private transient String[] timePath;
    private transient String[][] paths;

    public String[] eval(String line, String spec) {
        if (line == null || line.length() < 2 || line.charAt(0) != '{' || line.charAt(line.length() - 1) != '}' || !plain(line)) return null;
        if (!spec.equals(specText)) load(spec);
        JsonNode record;
        try {
            record = mapper.readTree(line);
        } catch (Exception bad) {
            return null;
        }
        if (record == null || !record.isObject() || time == null) return null;
        JsonNode raw = dig(record, timePath);
        Long ts = raw == null ? null : time.read(raw);
        if (ts == null) return null;
        String[] tokens = new String[paths.length + 1];
        tokens[0] = Long.toString(ts);
        for (int i = 0; i < paths.length; i++) tokens[i + 1] = token(dig(record, paths[i]));
        return tokens;
    }

    /** No escaped surrogate (backslash, u, D8..DF), no lone surrogate, bounded nesting (Python's recursion limit is lower than Jackson's). */
    static boolean plain(String line) {
        int brackets = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '{' || c == '[') {
                if (++brackets > MAX_BRACKETS) return false;
            } else if (c == '\\' && i + 3 < line.length() && line.charAt(i + 1) == 'u' && (line.charAt(i + 2) == 'd' || line.charAt(i + 2) == 'D')
                    && "89abcdefABCDEF".indexOf(line.charAt(i + 3)) >= 0) {
                return false;
            } else if (Character.isSurrogate(c)) {
                if (!Character.isHighSurrogate(c) || i + 1 >= line.length() || !Character.isLowSurrogate(line.charAt(i + 1))) return false;
                i++;
            }
        }
        return true;
    }

    /** `records.dig`: objects by key, lists by a decimal index, NULL where the path ends or meets null. */
    static JsonNode dig(JsonNode record, String[] path) {
        JsonNode current = record;
        for (String part : path) {
            if (current.isObject()) current = current.get(part);
            else if (current.isArray() && !part.isEmpty() && part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                current = part.length() > 9 ? null : current.get(Integer.parseInt(part));
            } else return null;
            if (current == null || current.isNull()) return null;
        }
        return current;
    }

    static String token(JsonNode value) {
        if (value == null) return null;
        if (value.isTextual()) return "s" + value.textValue();
        if (value.isIntegralNumber() && value.canConvertToLong()) return "i" + value.longValue();
        if (value.isDouble() && Double.isFinite(value.doubleValue())) return "f" + value.doubleValue();
        return "o";
    }

    /** spec: `time <format> <tz>` / `path <dotted time path>` then one `field <dotted path>` per token, tab-separated. */
    private void load(String spec) {
        mapper = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        List<String[]> fields = new ArrayList<>();
        time = null;
        for (String line : spec.split("\n")) {
            String[] parts = line.split("\t", -1);
            if (parts[0].equals("time")) time = EventTime.of(parts[1], parts[2]);
            else if (parts[0].equals("path")) timePath = parts[1].split("\\.", -1);
            else if (parts[0].equals("field")) fields.add(parts[1].split("\\.", -1));
        }
        paths = fields.toArray(new String[0][]);
        specText = spec;
    }
}
