package luna.sessionize;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The template's correlation parameters, as the Python side compiled them (jobs/sessionize/jvm/__init__.py
 * writes the spec): the state machines need durations and node shapes only, never parsing or rules, so the
 * template stays defined in one place.
 */
public final class Rules implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What the state machines need of one node of the behaviour tree. */
    public static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;
        final boolean supplement;
        final boolean many;
        final String joinOn;
        final long lowerMs;
        final long upperMs;

        Node(String name, boolean supplement, boolean many, String joinOn, long lowerMs, long upperMs) {
            this.name = name;
            this.supplement = supplement;
            this.many = many;
            this.joinOn = joinOn;
            this.lowerMs = lowerMs;
            this.upperMs = upperMs;
        }
    }

    long gapMs;
    long latenessMs;
    long joinHoldMs;
    long timeoutMs;
    long maxJoinReachMs;
    /** The template version: a document shows it, so a new version is new content. Long.MIN_VALUE: none. */
    long version = Long.MIN_VALUE;
    final Map<String, Node> nodes = new HashMap<>();
    final List<String> completeWhen = new ArrayList<>();

    /** One setting per line: `gap MS`, `lateness MS`, `hold MS`, `reach MS`, `timeout MS`, `version N`, `complete A B ..`,
     *  `node NAME baseline|supplement many|one [ON LOWER UPPER]`. Names are template identifiers (no spaces). */
    public static Rules parse(String spec) {
        Rules rules = new Rules();
        for (String line : spec.split("\n")) {
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "gap": rules.gapMs = Long.parseLong(w[1]); break;
                case "lateness": rules.latenessMs = Long.parseLong(w[1]); break;
                case "hold": rules.joinHoldMs = Long.parseLong(w[1]); break;
                case "timeout": rules.timeoutMs = Long.parseLong(w[1]); break;
                case "reach": rules.maxJoinReachMs = Long.parseLong(w[1]); break;
                case "version": rules.version = Long.parseLong(w[1]); break;
                case "complete":
                    for (int i = 1; i < w.length; i++) rules.completeWhen.add(w[i]);
                    break;
                case "node": {
                    boolean supplement = w[2].equals("supplement");
                    rules.nodes.put(w[1], new Node(w[1], supplement, w[3].equals("many"),
                            supplement ? w[4] : null, supplement ? Long.parseLong(w[5]) : 0, supplement ? Long.parseLong(w[6]) : 0));
                    break;
                }
                case "": break;
                default: throw new IllegalArgumentException("unknown rules line: " + line);
            }
        }
        return rules;
    }

    Node node(String name) {
        Node node = nodes.get(name);
        if (node == null) throw new IllegalArgumentException("unknown node " + name);
        return node;
    }

    /** After this watermark no baseline event that could match the supplement can still arrive on time. */
    long supplementHorizon(Ev supplement) {
        return supplement.ts - node(supplement.node).lowerMs + gapMs + latenessMs;
    }

    /** How long after its time a join value's owner or waiting supplement is kept (JoinKeyState.reach). */
    long joinReach() {
        return Math.max(maxJoinReachMs, joinHoldMs) + gapMs + latenessMs;
    }
}
