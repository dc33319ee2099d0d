package luna.sessionize;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;

/**
 * A source's event time, exactly as Python's `logic.timeparse` computes it, for the values whose reading is certain;
 * null otherwise (the line then goes to the Python parser, which accepts or rejects it with its reason). Flink SQL's
 * UNIX_TIMESTAMP is lenient (2024-02-30 reads as March 1, measured) and ROUND rounds half up, so the event time of a
 * classified line is computed here; sql_sources' expressions only drive the watermark.
 */
final class EventTime {
    static final double MAX_ABS_MS = 253_402_300_800_000d;
    private static final long TWO_53 = 1L << 53;
    private static final Pattern ISO = Pattern.compile("(\\d{4})-(\\d{2})-(\\d{2})[T ](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,6}))?(Z|[+-]\\d{2}:\\d{2})?");
    private static final Pattern SPACE = Pattern.compile("(\\d{4})-(\\d{2})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,6}))?");
    private static final Pattern TEE = Pattern.compile("(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,6}))?");

    private final String format;
    private final Pattern pattern;
    private final boolean fraction;
    private final int defaultOffset;

    private EventTime(String format, Pattern pattern, boolean fraction, int defaultOffset) {
        this.format = format;
        this.pattern = pattern;
        this.fraction = fraction;
        this.defaultOffset = defaultOffset;
    }

    /** The reader for a (format, tz) pair, or null when only Python can read it (e.g. another strftime pattern). */
    static EventTime of(String format, String tz) {
        Integer offset = offsetSeconds(tz == null || tz.isEmpty() || tz.equals("UTC") || tz.equals("Z") || tz.equals("utc") ? "+00:00" : tz.strip());
        if (offset == null) return null;
        switch (format) {
            case "epoch_ms": case "epoch_s": return new EventTime(format, null, false, 0);
            case "iso8601": return new EventTime(format, ISO, true, offset);
            case "%Y-%m-%d %H:%M:%S": return new EventTime(format, SPACE, false, offset);
            case "%Y-%m-%d %H:%M:%S.%f": return new EventTime(format, SPACE, true, offset);
            case "%Y-%m-%dT%H:%M:%S": return new EventTime(format, TEE, false, offset);
            case "%Y-%m-%dT%H:%M:%S.%f": return new EventTime(format, TEE, true, offset);
            default: return null;
        }
    }

    /** '+08:00' / '-0530' → seconds; null for what Python would refuse or read differently. */
    static Integer offsetSeconds(String text) {
        String digits;
        if (text.length() == 6 && text.charAt(3) == ':') digits = text.substring(1, 3) + text.substring(4);
        else if (text.length() == 5) digits = text.substring(1);
        else return null;
        if ((text.charAt(0) != '+' && text.charAt(0) != '-') || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) return null;
        int hours = Integer.parseInt(digits.substring(0, 2)), minutes = Integer.parseInt(digits.substring(2));
        if (hours > 23 || minutes > 59) return null;
        int seconds = hours * 3600 + minutes * 60;
        return text.charAt(0) == '-' ? -seconds : seconds;
    }

    /** Epoch ms of a JSON value, or null when Python might read it differently (then Python decides). */
    Long read(JsonNode value) {
        if (pattern == null) {
            if (!value.isNumber() || !(value.isIntegralNumber() ? value.canConvertToLong() : value.isDouble())) return null;
            double number = value.isIntegralNumber() ? (double) value.longValue() : value.doubleValue();
            double ms = format.equals("epoch_ms") ? number : number * 1000;
            if (!Double.isFinite(ms) || Math.abs(ms) >= MAX_ABS_MS) return null;
            return format.equals("epoch_ms") ? (long) ms : (long) Math.rint(ms);
        }
        if (!value.isTextual()) return null;
        Matcher m = pattern.matcher(value.textValue());
        // a strftime pattern's `.%f` is required (strptime refuses a time without it); only ISO 8601 makes it optional
        if (!m.matches() || (m.group(7) != null ? !fraction : fraction && pattern != ISO)) return null;
        int year = Integer.parseInt(m.group(1));
        if (year < 1) return null;
        long seconds;
        try {
            seconds = LocalDateTime.of(year, Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)),
                    Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6))).toEpochSecond(ZoneOffset.UTC);
        } catch (DateTimeException invalid) {
            return null;
        }
        int offset = defaultOffset;
        if (pattern == ISO && m.group(8) != null) {
            Integer explicit = m.group(8).equals("Z") ? Integer.valueOf(0) : offsetSeconds(m.group(8));
            if (explicit == null) return null;
            offset = explicit;
        }
        String digits = m.group(7) == null ? "" : m.group(7);
        long micros = (seconds - offset) * 1_000_000L + (digits.isEmpty() ? 0 : Long.parseLong((digits + "00000").substring(0, 6)));
        if (Math.abs(micros) >= TWO_53) return null;  // Python divides exactly; a double holds it exactly only below 2^53
        double timestamp = micros / 1e6;  // datetime.timestamp(): total_seconds() of the offset from the epoch
        return (long) (timestamp * 1000 + (timestamp >= 0 ? 0.5 : -0.5));
    }
}
